import { createControlPlaneClient, type ControlPlaneClient } from "@internal/database";
import { PrismaControlPlaneResolver, type AuthenticatedEnvironment } from "@internal/database/resolver";
import { RunEngine } from "@internal/run-engine";
import { createRunStoreFromUrls, engineStore, type RunStore, type TaskRun } from "@internal/run-store";
import { TEST_REDIS_URL } from "@internal/testcontainers";
import { fromFriendlyId } from "@runplane/core";
import { startWorker, type RunningWorker, type StartWorkerOptions } from "@runplane/worker";
import type { TestServer } from "../../support/testServer";

/**
 * End-to-end harness for the worker protocol: a real test server, real workers (`startWorker` in this
 * process), and runs triggered and cancelled through the server's public API. A RunEngine in this
 * process, on the server's databases and Redis prefix, only reads run state for assertions (and a few
 * protocol tests use it for what no public route does); its background jobs stay off.
 */
export type Harness = {
  server: TestServer;
  engine: RunEngine;
  store: RunStore;
  /** The dev environment (the workers' `devSecretKey`), and the prod one for isolation checks. */
  environment: AuthenticatedEnvironment;
  prodEnvironment: AuthenticatedEnvironment;
  /** The server's URL. */
  apiUrl: string;
  /** `POST /api/v1/tasks/:id/trigger` with the dev key; the run's friendly id. */
  trigger(taskIdentifier: string, payload: unknown, options?: TriggerOptions): Promise<string>;
  /** `POST /api/v2/runs/:id/cancel`. */
  cancel(runId: string): Promise<void>;
  run(runId: string): Promise<TaskRun>;
  /** Polls until the run reaches one of `statuses` (throws with its last status after `timeoutMs`). */
  waitForStatus(runId: string, statuses: TaskRun["status"][], timeoutMs?: number): Promise<TaskRun>;
  /** A worker of this harness (default: a fresh version, 500 ms heartbeats, warn-level logs collected). */
  /** Polls until the run's latest snapshot has `executionStatus`. */
  waitForExecutionStatus(runId: string, executionStatus: string, timeoutMs?: number): Promise<void>;
  startWorker(options: Omit<StartWorkerOptions, "apiUrl" | "secretKey">): Promise<RunningWorker>;
  /** Stops every worker this harness started. */
  stopWorkers(): Promise<void>;
  /** Worker log lines at warn and above (all of them with SHOW_WORKER_LOGS; WORKER_LOG_LEVEL=debug for more). */
  workerLogs: string[];
  close(): Promise<void>;
};

/** Public trigger options the tests use (api.md §4.1). */
export type TriggerOptions = {
  delay?: string;
  ttl?: string;
  concurrencyKey?: string;
  tags?: string[];
  parentRunId?: string;
  resumeParentOnCompletion?: boolean;
};

export const FINAL_STATUSES: TaskRun["status"][] = [
  "COMPLETED_SUCCESSFULLY",
  "COMPLETED_WITH_ERRORS",
  "CANCELED",
  "EXPIRED",
  "TIMED_OUT",
  "SYSTEM_FAILURE",
  "CRASHED",
  "INTERRUPTED",
];

export async function createHarness(server: TestServer, split: boolean): Promise<Harness> {
  const { store, close: closeStore } = createRunStoreFromUrls({
    databaseUrl: server.databaseUrl,
    runOpsDatabaseUrl: server.runOpsDatabaseUrl,
    splitEnabled: split,
    poolSize: 4,
  });
  const prisma: ControlPlaneClient = createControlPlaneClient({ connectionString: server.databaseUrl, max: 2 });
  const resolver = new PrismaControlPlaneResolver({ client: prisma });
  const environment = await resolver.resolveEnvByApiKey(server.devSecretKey);
  const prodEnvironment = await resolver.resolveEnvByApiKey(server.prodSecretKey);
  if (!environment || !prodEnvironment) throw new Error("the test server's environments were not bootstrapped");
  const engine = new RunEngine({
    runStore: store,
    resolver,
    redis: TEST_REDIS_URL,
    mintKind: split ? "NEW" : "LEGACY",
    keyPrefix: `${server.redis.keyPrefix}engine:`,
  });

  const apiUrl = server.baseUrl;
  const post = async (path: string, body: unknown): Promise<any> => {
    const res = await fetch(`${apiUrl}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.devSecretKey}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`POST ${path} → ${res.status} ${JSON.stringify(json)}`);
    return json;
  };

  const workers: RunningWorker[] = [];
  let versions = 0;
  const workerLogs: string[] = [];

  async function run(runId: string): Promise<TaskRun> {
    const found = await engineStore.findRunById(store, fromFriendlyId(runId, "run"));
    if (!found) throw new Error(`run ${runId} not found`);
    return found;
  }

  return {
    server,
    engine,
    store,
    environment,
    prodEnvironment,
    apiUrl,
    workerLogs,
    async trigger(taskIdentifier, payload, options = {}) {
      const { id } = await post(`/api/v1/tasks/${encodeURIComponent(taskIdentifier)}/trigger`, { payload, options });
      return id as string;
    },
    async cancel(runId) {
      await post(`/api/v2/runs/${runId}/cancel`, {});
    },
    run,
    async waitForStatus(runId, statuses, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const current = await run(runId);
        if (statuses.includes(current.status)) return current;
        if (Date.now() > deadline) {
          throw new Error(
            `run ${runId} is ${current.status}, not ${statuses.join("|")}, after ${timeoutMs} ms\n` +
              `worker logs:\n${workerLogs.join("\n")}\nserver stderr:\n${server.output().stderr.slice(-4000)}`
          );
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async waitForExecutionStatus(runId, executionStatus, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const latest = await engine.getLatestSnapshot(runId);
        if (latest?.executionStatus === executionStatus) return;
        if (Date.now() > deadline) {
          throw new Error(`run ${runId} is ${latest?.executionStatus}, not ${executionStatus}, after ${timeoutMs} ms\nworker logs:\n${workerLogs.join("\n")}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async startWorker(options) {
      const worker = await startWorker({
        apiUrl,
        secretKey: server.devSecretKey,
        version: `test.${++versions}.${Date.now()}`,
        heartbeatIntervalMs: 500,
        logLevel: (process.env.WORKER_LOG_LEVEL as "debug" | "info" | undefined) ?? "warn",
        logSink: (line, level) => void ((level === "warn" || level === "error" || process.env.SHOW_WORKER_LOGS) && workerLogs.push(line)),
        ...options,
      });
      workers.push(worker);
      return worker;
    },
    async stopWorkers() {
      await Promise.allSettled(workers.splice(0).map((w) => w.stop()));
    },
    async close() {
      await Promise.allSettled(workers.splice(0).map((w) => w.stop()));
      await engine.close();
      await Promise.allSettled([closeStore(), prisma.$disconnect()]);
    },
  };
}

/** Starts a harness on the test server, runs `fn`, and always closes the harness. */
export async function withHarness(server: TestServer, split: boolean, fn: (h: Harness) => Promise<void>): Promise<void> {
  const harness = await createHarness(server, split);
  try {
    await fn(harness);
  } finally {
    await harness.close();
  }
}

/** Largest number of [start, end) intervals open at one instant. */
export function maxOverlap(intervals: Array<{ start: number; end: number }>): number {
  const events = intervals.flatMap((i) => [
    { at: i.start, delta: 1 },
    { at: i.end, delta: -1 },
  ]);
  events.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let open = 0;
  let max = 0;
  for (const e of events) {
    open += e.delta;
    max = Math.max(max, open);
  }
  return max;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** SuperJSON (what the worker writes) or JSON, decoded to the value. */
export function decodeOutput(output: string | null, outputType: string): unknown {
  if (output === null) return undefined;
  const parsed = JSON.parse(output) as unknown;
  return outputType.startsWith("application/super+json") ? (parsed as { json: unknown }).json : parsed;
}
