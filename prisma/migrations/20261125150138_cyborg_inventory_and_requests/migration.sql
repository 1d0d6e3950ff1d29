-- CreateEnum
CREATE TYPE "DeviceType" AS ENUM ('GPU', 'FPGA', 'AICHIP', 'QAT', 'NIC', 'SSD');

-- CreateEnum
CREATE TYPE "DeviceStatus" AS ENUM ('enabled', 'maintaining');

-- CreateEnum
CREATE TYPE "AttachType" AS ENUM ('PCI', 'MDEV', 'TEST_PCI');

-- CreateEnum
CREATE TYPE "ArqState" AS ENUM ('Initial', 'BindStarted', 'Bound', 'BindFailed', 'Unbound', 'UnbindFailed', 'Deleting');

-- CreateTable
CREATE TABLE "devices" (
    "id" SERIAL NOT NULL,
    "uuid" UUID NOT NULL,
    "type" "DeviceType" NOT NULL,
    "vendor" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "std_board_info" JSONB NOT NULL,
    "vendor_board_info" TEXT NOT NULL,
    "hostname" TEXT NOT NULL,
    "status" "DeviceStatus" NOT NULL DEFAULT 'enabled',
    "version" BIGINT NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "devices_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "controlpath_ids" (
    "id" SERIAL NOT NULL,
    "uuid" UUID NOT NULL,
    "device_id" INTEGER NOT NULL,
    "cpid_type" TEXT NOT NULL,
    "cpid_info" TEXT NOT NULL,
    "version" BIGINT NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "controlpath_ids_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "deployables" (
    "id" SERIAL NOT NULL,
    "uuid" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "num_accelerators" INTEGER NOT NULL,
    "device_id" INTEGER NOT NULL,
    "parent_id" INTEGER,
    "root_id" INTEGER,
    "rp_uuid" UUID,
    "driver_name" TEXT,
    "bitstream_id" TEXT,
    "version" BIGINT NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "deployables_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "attributes" (
    "id" SERIAL NOT NULL,
    "uuid" UUID NOT NULL,
    "deployable_id" INTEGER NOT NULL,
    "key" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "version" BIGINT NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "attributes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "attach_handles" (
    "id" SERIAL NOT NULL,
    "uuid" UUID NOT NULL,
    "deployable_id" INTEGER NOT NULL,
    "cpid_id" INTEGER NOT NULL,
    "in_use" BOOLEAN NOT NULL DEFAULT false,
    "attach_type" "AttachType" NOT NULL,
    "attach_info" TEXT NOT NULL,
    "version" BIGINT NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "attach_handles_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "device_profiles" (
    "id" SERIAL NOT NULL,
    "uuid" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "groups" JSONB NOT NULL,
    "description" TEXT,
    "project_id" TEXT,
    "version" BIGINT NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "device_profiles_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "extended_accelerator_requests" (
    "id" SERIAL NOT NULL,
    "uuid" UUID NOT NULL,
    "project_id" TEXT,
    "state" "ArqState" NOT NULL DEFAULT 'Initial',
    "device_profile_id" INTEGER NOT NULL,
    "device_profile_group_id" INTEGER NOT NULL,
    "hostname" TEXT,
    "device_rp_uuid" UUID,
    "instance_uuid" UUID,
    "attach_handle_id" INTEGER,
    "deployable_id" INTEGER,
    "version" BIGINT NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "extended_accelerator_requests_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "devices_uuid_key" ON "devices"("uuid");

-- CreateIndex
CREATE INDEX "devices_hostname_idx" ON "devices"("hostname");

-- CreateIndex
CREATE UNIQUE INDEX "controlpath_ids_uuid_key" ON "controlpath_ids"("uuid");

-- CreateIndex
CREATE UNIQUE INDEX "controlpath_ids_device_id_cpid_info_key" ON "controlpath_ids"("device_id", "cpid_info");

-- CreateIndex
CREATE UNIQUE INDEX "deployables_uuid_key" ON "deployables"("uuid");

-- CreateIndex
CREATE UNIQUE INDEX "deployables_name_key" ON "deployables"("name");

-- CreateIndex
CREATE INDEX "deployables_rp_uuid_idx" ON "deployables"("rp_uuid");

-- CreateIndex
CREATE UNIQUE INDEX "attributes_uuid_key" ON "attributes"("uuid");

-- CreateIndex
CREATE UNIQUE INDEX "attributes_deployable_id_key_key" ON "attributes"("deployable_id", "key");

-- CreateIndex
CREATE UNIQUE INDEX "attach_handles_uuid_key" ON "attach_handles"("uuid");

-- CreateIndex
CREATE INDEX "attach_handles_deployable_id_in_use_idx" ON "attach_handles"("deployable_id", "in_use");

-- CreateIndex
CREATE UNIQUE INDEX "attach_handles_deployable_id_attach_info_key" ON "attach_handles"("deployable_id", "attach_info");

-- CreateIndex
CREATE UNIQUE INDEX "device_profiles_uuid_key" ON "device_profiles"("uuid");

-- CreateIndex
CREATE UNIQUE INDEX "device_profiles_name_key" ON "device_profiles"("name");

-- CreateIndex
CREATE UNIQUE INDEX "extended_accelerator_requests_uuid_key" ON "extended_accelerator_requests"("uuid");

-- CreateIndex
CREATE UNIQUE INDEX "extended_accelerator_requests_attach_handle_id_key" ON "extended_accelerator_requests"("attach_handle_id");

-- CreateIndex
CREATE INDEX "extended_accelerator_requests_instance_uuid_idx" ON "extended_accelerator_requests"("instance_uuid");

-- AddForeignKey
ALTER TABLE "controlpath_ids" ADD CONSTRAINT "controlpath_ids_device_id_fkey" FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "deployables" ADD CONSTRAINT "deployables_device_id_fkey" FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "deployables" ADD CONSTRAINT "deployables_parent_id_fkey" FOREIGN KEY ("parent_id") REFERENCES "deployables"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "attributes" ADD CONSTRAINT "attributes_deployable_id_fkey" FOREIGN KEY ("deployable_id") REFERENCES "deployables"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "attach_handles" ADD CONSTRAINT "attach_handles_deployable_id_fkey" FOREIGN KEY ("deployable_id") REFERENCES "deployables"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "attach_handles" ADD CONSTRAINT "attach_handles_cpid_id_fkey" FOREIGN KEY ("cpid_id") REFERENCES "controlpath_ids"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "extended_accelerator_requests" ADD CONSTRAINT "extended_accelerator_requests_device_profile_id_fkey" FOREIGN KEY ("device_profile_id") REFERENCES "device_profiles"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "extended_accelerator_requests" ADD CONSTRAINT "extended_accelerator_requests_attach_handle_id_fkey" FOREIGN KEY ("attach_handle_id") REFERENCES "attach_handles"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "extended_accelerator_requests" ADD CONSTRAINT "extended_accelerator_requests_deployable_id_fkey" FOREIGN KEY ("deployable_id") REFERENCES "deployables"("id") ON DELETE SET NULL ON UPDATE CASCADE;
