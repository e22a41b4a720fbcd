-- Bulk actions that touched a run (filter[bulkAction]).
ALTER TABLE "TaskRun" ADD COLUMN "bulkActionGroupIds" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[];
CREATE INDEX "TaskRun_bulkActionGroupIds_idx" ON "TaskRun" USING GIN ("bulkActionGroupIds");

-- Offloaded payloads and outputs, in chunks, beside the runs they belong to.
CREATE TABLE "PacketChunk" (
    "key" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "environmentId" TEXT NOT NULL,
    "contentType" TEXT NOT NULL DEFAULT 'application/json',
    "chunkCount" INTEGER NOT NULL,
    "data" BYTEA NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "PacketChunk_pkey" PRIMARY KEY ("key", "seq")
);
CREATE INDEX "PacketChunk_environmentId_idx" ON "PacketChunk"("environmentId");
CREATE INDEX "PacketChunk_createdAt_idx" ON "PacketChunk"("createdAt");
