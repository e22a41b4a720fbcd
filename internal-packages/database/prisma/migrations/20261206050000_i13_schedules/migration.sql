-- Cron schedules (issue 13): one row per schedule; the scheduler keeps the next tick here.
CREATE TYPE "TaskScheduleType" AS ENUM ('DECLARATIVE', 'IMPERATIVE');

CREATE TABLE "TaskSchedule" (
    "id" TEXT NOT NULL,
    "friendlyId" TEXT NOT NULL,
    "type" "TaskScheduleType" NOT NULL,
    "taskIdentifier" TEXT NOT NULL,
    "cron" TEXT NOT NULL,
    "timezone" TEXT NOT NULL DEFAULT 'UTC',
    "externalId" TEXT,
    "deduplicationKey" TEXT,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "runtimeEnvironmentId" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "nextTickAt" TIMESTAMP(3),
    "lastTickAt" TIMESTAMP(3),
    "lastRunFriendlyId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "TaskSchedule_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "TaskSchedule_friendlyId_key" ON "TaskSchedule"("friendlyId");
CREATE UNIQUE INDEX "TaskSchedule_runtimeEnvironmentId_deduplicationKey_key" ON "TaskSchedule"("runtimeEnvironmentId", "deduplicationKey");
CREATE INDEX "TaskSchedule_active_nextTickAt_idx" ON "TaskSchedule"("active", "nextTickAt");
CREATE INDEX "TaskSchedule_runtimeEnvironmentId_createdAt_idx" ON "TaskSchedule"("runtimeEnvironmentId", "createdAt" DESC);
-- At most one declarative schedule per task and environment (not expressible in the Prisma schema).
CREATE UNIQUE INDEX "TaskSchedule_declarative_task_key" ON "TaskSchedule"("runtimeEnvironmentId", "taskIdentifier") WHERE "type" = 'DECLARATIVE';

ALTER TABLE "TaskSchedule" ADD CONSTRAINT "TaskSchedule_runtimeEnvironmentId_fkey" FOREIGN KEY ("runtimeEnvironmentId") REFERENCES "RuntimeEnvironment"("id") ON DELETE CASCADE ON UPDATE CASCADE;
