-- Why a bind ended BindFailed (no deployable with the resource provider, no free attach handle, device disabled): shown by the API.
ALTER TABLE "extended_accelerator_requests" ADD COLUMN "bind_failure_reason" TEXT;
