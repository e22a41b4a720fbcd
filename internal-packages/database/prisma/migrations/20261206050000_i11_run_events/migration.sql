-- Run events (issue 11): spans and log records of runs, written beside the runs they belong to (this
-- migration exists in both databases; with split on a run-ops run's events live in run-ops).
-- Both tables are partitioned by day on their time column; the webapp creates each day's partition
-- before its first insert ("RunSpan_pYYYYMMDD") and a retention loop drops whole partitions older than
-- EVENT_RETENTION_DAYS. Not Prisma models: the events store writes them with fixed-text SQL.

CREATE TABLE "RunSpan" (
  "environmentId" TEXT NOT NULL,
  "runId" TEXT NOT NULL,
  "traceId" TEXT NOT NULL,
  "spanId" TEXT NOT NULL,
  "parentSpanId" TEXT,
  "name" TEXT NOT NULL,
  -- run | queued | attempt | wait | retry | task (a worker's own span) | otel (any other OTLP span)
  "kind" TEXT NOT NULL,
  "startTime" TIMESTAMPTZ(6) NOT NULL,
  "durationNs" BIGINT NOT NULL,
  "isError" BOOLEAN NOT NULL DEFAULT false,
  "isPartial" BOOLEAN NOT NULL DEFAULT false,
  "attributes" JSONB NOT NULL DEFAULT '{}',
  "events" JSONB NOT NULL DEFAULT '[]',
  "insertedAt" TIMESTAMPTZ(6) NOT NULL DEFAULT now()
) PARTITION BY RANGE ("startTime");

CREATE INDEX "RunSpan_traceId_startTime_idx" ON "RunSpan" ("traceId", "startTime");
CREATE INDEX "RunSpan_runId_spanId_idx" ON "RunSpan" ("runId", "spanId");

CREATE TABLE "RunLog" (
  "environmentId" TEXT NOT NULL,
  "runId" TEXT NOT NULL,
  "traceId" TEXT NOT NULL,
  "spanId" TEXT,
  "time" TIMESTAMPTZ(6) NOT NULL,
  -- trace | debug | info | warn | error | fatal
  "level" TEXT NOT NULL,
  "message" TEXT NOT NULL,
  "attributes" JSONB NOT NULL DEFAULT '{}',
  "seq" BIGSERIAL NOT NULL
) PARTITION BY RANGE ("time");

CREATE INDEX "RunLog_runId_time_idx" ON "RunLog" ("runId", "time", "seq");
CREATE INDEX "RunLog_traceId_time_idx" ON "RunLog" ("traceId", "time");
