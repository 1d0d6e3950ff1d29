-- CreateTable
CREATE TABLE "deployable_usages" (
    "deployable_uuid" TEXT NOT NULL,
    "version" BIGINT NOT NULL,
    "metrics" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "deployable_usages_pkey" PRIMARY KEY ("deployable_uuid")
);
