import type { RunEngine } from "@internal/run-engine";
import type { RunStore } from "@internal/run-store";
import { BackgroundLoop } from "@runplane/core/lifecycle";
import type { Env } from "~/env.server";
import type { Logger } from "~/services/logger.server";
import { EngineSpanRecorder } from "./engineSpans.server";
import { OtlpIngestService } from "./otlpIngest.server";
import { PostgresEventStore } from "./postgresEventStore.server";
import { RunAttribution } from "./runAttribution.server";
import type { EventStore } from "./types";

/** Run traces: the events store, the OTLP ingest service, the engine's span recorder and the retention loop. */
export type RunEvents = {
  store: EventStore;
  ingest: OtlpIngestService;
  recorder: EngineSpanRecorder;
  retention: BackgroundLoop;
  close(): Promise<void>;
};

export function createRunEvents(deps: {
  env: Env;
  runOpsDatabaseUrl?: string;
  splitEnabled: boolean;
  runStore: RunStore;
  engine: RunEngine;
  logger: Logger;
}): RunEvents {
  const { env, logger } = deps;
  const store = new PostgresEventStore({
    databaseUrl: env.DATABASE_URL,
    runOpsDatabaseUrl: deps.splitEnabled ? deps.runOpsDatabaseUrl : undefined,
    poolSize: Math.max(2, Math.ceil(env.DATABASE_POOL_SIZE / 2)),
    retentionDays: env.EVENT_RETENTION_DAYS,
    batchSize: env.EVENT_INGEST_BATCH_SIZE,
    flushIntervalMs: 25,
    maxPending: env.EVENT_INGEST_MAX_PENDING,
  });
  const ingest = new OtlpIngestService({ store, attribution: new RunAttribution(deps.runStore), retentionDays: env.EVENT_RETENTION_DAYS });
  const recorder = new EngineSpanRecorder({ eventBus: deps.engine.eventBus, runStore: deps.runStore, store, logger });
  recorder.start();
  const retention = new BackgroundLoop({
    name: "event-retention",
    intervalMs: env.EVENT_RETENTION_INTERVAL_MS,
    tick: async () => {
      const dropped = await store.dropExpiredPartitions(new Date());
      if (dropped.length > 0) logger.info("dropped expired event partitions", { partitions: dropped });
    },
    onError: (error) => logger.warn("event retention tick failed", { error: error instanceof Error ? error.message : String(error) }),
  });
  return {
    store,
    ingest,
    recorder,
    retention,
    close: async () => {
      recorder.stop();
      await store.close();
    },
  };
}
