-- Every foreign key gets an index: without them, deleting a host of 20,000 devices cascaded through
-- sequential scans of deployables and attach handles per device and did not finish in 30 s.

-- CreateIndex
CREATE INDEX "deployables_device_id_idx" ON "deployables"("device_id");

-- CreateIndex
CREATE INDEX "deployables_parent_id_idx" ON "deployables"("parent_id");

-- CreateIndex
CREATE INDEX "attach_handles_cpid_id_idx" ON "attach_handles"("cpid_id");

-- CreateIndex
CREATE INDEX "extended_accelerator_requests_deployable_id_idx" ON "extended_accelerator_requests"("deployable_id");

-- CreateIndex
CREATE INDEX "extended_accelerator_requests_device_profile_id_idx" ON "extended_accelerator_requests"("device_profile_id");
