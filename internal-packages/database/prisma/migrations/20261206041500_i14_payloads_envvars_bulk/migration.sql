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

-- Environment variables (values are AES-256-GCM ciphertext).
CREATE TABLE "EnvironmentVariable" (
    "id" TEXT NOT NULL,
    "runtimeEnvironmentId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "encryptedValue" TEXT NOT NULL,
    "isSecret" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "EnvironmentVariable_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "EnvironmentVariable_runtimeEnvironmentId_name_key" ON "EnvironmentVariable"("runtimeEnvironmentId", "name");
ALTER TABLE "EnvironmentVariable" ADD CONSTRAINT "EnvironmentVariable_runtimeEnvironmentId_fkey" FOREIGN KEY ("runtimeEnvironmentId") REFERENCES "RuntimeEnvironment"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Bulk cancel / replay actions.
CREATE TABLE "BulkAction" (
    "id" TEXT NOT NULL,
    "friendlyId" TEXT NOT NULL,
    "runtimeEnvironmentId" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'PENDING',
    "name" TEXT,
    "selection" JSONB NOT NULL,
    "cursor" JSONB,
    "total" INTEGER NOT NULL DEFAULT 0,
    "successCount" INTEGER NOT NULL DEFAULT 0,
    "failureCount" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "completedAt" TIMESTAMP(3),
    CONSTRAINT "BulkAction_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "BulkAction_friendlyId_key" ON "BulkAction"("friendlyId");
CREATE INDEX "BulkAction_runtimeEnvironmentId_createdAt_idx" ON "BulkAction"("runtimeEnvironmentId", "createdAt" DESC);
CREATE INDEX "BulkAction_status_idx" ON "BulkAction"("status");
ALTER TABLE "BulkAction" ADD CONSTRAINT "BulkAction_runtimeEnvironmentId_fkey" FOREIGN KEY ("runtimeEnvironmentId") REFERENCES "RuntimeEnvironment"("id") ON DELETE CASCADE ON UPDATE CASCADE;
