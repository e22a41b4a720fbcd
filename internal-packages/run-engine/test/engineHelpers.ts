import { randomBytes } from "node:crypto";
import { createControlPlaneClient, type ControlPlaneClient } from "@internal/database";
import { PrismaControlPlaneResolver, type ResolvedEnvironment } from "@internal/database/resolver";
import { createRunStoreFromUrls, type RunStore } from "@internal/run-store";
import { containerTest, postgresTest, createTestRedis, testSplitModeFromEnv, type TestRedis } from "@internal/testcontainers";
import { generateCuid } from "@runplane/core";
import { RunEngine, registerWorker, type CompletionInput, type ExecutionContext, type RegisterWorkerBody, type RunEngineOptions } from "../src/index.js";

export type EngineMode = { split: boolean };
/** Both modes; RUNPLANE_TEST_SPLIT=1 or =0 narrows to split or single-database mode (scripts/test.sh runs one pass of each). */
const ONLY_SPLIT = testSplitModeFromEnv();
export const MODES: EngineMode[] = ONLY_SPLIT === undefined ? [{ split: false }, { split: true }] : [{ split: ONLY_SPLIT }];

type Fixture = { databaseUrl: string; runOpsDatabaseUrl?: string; redis: TestRedis };

const singleDbTest = postgresTest.extend<{ redis: TestRedis }>({
  redis: async ({}, use) => {
    const redis = createTestRedis();
    try {
      await use(redis);
    } finally {
      await redis.cleanup();
    }
  },
});

/** `{split:false}`: one database; `{split:true}`: control plane + run-ops (NEW ids minted). */
export function engineTestFor(mode: EngineMode) {
  return (mode.split ? containerTest : singleDbTest) as unknown as typeof containerTest;
}

export type EngineHarness = {
  engine: RunEngine;
  store: RunStore;
  cp: ControlPlaneClient;
  resolver: PrismaControlPlaneResolver;
  env: ResolvedEnvironment;
  databaseUrl: string;
  runOpsDatabaseUrl?: string;
  register: (body: RegisterWorkerBody) => Promise<{ worker: { id: string; friendlyId: string; version: string } }>;
  close: () => Promise<void>;
};

const token = () => randomBytes(6).toString("hex");

export async function setupEngine(
  mode: EngineMode,
  fixture: Fixture,
  options: Partial<RunEngineOptions> & { tasks?: RegisterWorkerBody["tasks"]; envConcurrency?: number } = {}
): Promise<EngineHarness> {
  const { store, close: closeStore } = createRunStoreFromUrls({
    databaseUrl: fixture.databaseUrl,
    runOpsDatabaseUrl: mode.split ? fixture.runOpsDatabaseUrl : undefined,
    splitEnabled: mode.split,
    poolSize: 8,
  });
  const cp = createControlPlaneClient({ connectionString: fixture.databaseUrl, max: 4 });
  const org = await cp.organization.create({ data: { id: generateCuid(), slug: `org-${token()}`, title: "Acme" } });
  const project = await cp.project.create({
    data: { id: generateCuid(), slug: `p-${token()}`, name: "Project", externalRef: `proj_${token()}`, organizationId: org.id },
  });
  const envRow = await cp.runtimeEnvironment.create({
    data: {
      id: generateCuid(),
      slug: "prod",
      type: "PRODUCTION",
      apiKey: `tr_prod_${token()}`,
      pkApiKey: `pk_prod_${token()}`,
      shortcode: token(),
      maximumConcurrencyLimit: options.envConcurrency ?? 20,
      projectId: project.id,
      organizationId: org.id,
    },
  });
  const resolver = new PrismaControlPlaneResolver({ client: cp });
  const env = (await resolver.resolveEnv(envRow.id))!;
  const { tasks, envConcurrency: _unused, ...engineOptions } = options;
  const engine = new RunEngine({
    runStore: store,
    resolver,
    redis: fixture.redis.options,
    mintKind: mode.split ? "NEW" : "LEGACY",
    heartbeatTimeoutMs: 30_000,
    worker: { pollIntervalMs: 20, ttlSweepIntervalMs: 100 },
    retryDefaults: { minTimeoutInMs: 50, maxTimeoutInMs: 500, randomize: false },
    logger: { debug() {}, info() {}, warn() {}, error: (msg, f) => console.error(msg, f) },
    ...engineOptions,
  });
  const register = (body: RegisterWorkerBody) => registerWorker({ prisma: cp, resolver, engine }, env, body);
  await register({ version: "v1", tasks: tasks ?? [{ id: "hello" }, { id: "parent" }, { id: "child" }] });
  engine.start();
  return {
    engine,
    store,
    cp,
    resolver,
    env,
    databaseUrl: fixture.databaseUrl,
    runOpsDatabaseUrl: fixture.runOpsDatabaseUrl,
    register,
    close: async () => {
      await engine.close();
      await closeStore();
      await cp.$disconnect();
    },
  };
}

/** Dequeues one run (long-polling), starts it, runs `fn`, completes it with what `fn` returns. */
export async function runOnce(
  h: EngineHarness,
  fn: (execution: ExecutionContext, ids: { runId: string; snapshotId: string }) => Promise<CompletionInput> = async () => ({ ok: true, output: "{}" }),
  options: { waitMs?: number; consumerId?: string } = {}
) {
  const [dequeued] = await h.engine.dequeue({ environmentId: h.env.id, consumerId: options.consumerId ?? "c1", maxRuns: 1, waitMs: options.waitMs ?? 3000 });
  if (!dequeued) return null;
  const started = await h.engine.startRunAttempt(dequeued.runId, dequeued.snapshotId);
  const completion = await fn(started.execution, { runId: dequeued.runId, snapshotId: started.snapshotId });
  const result = await h.engine.completeRunAttempt(dequeued.runId, started.snapshotId, completion);
  return { dequeued, started, result };
}

/** Dequeue + start only (the caller keeps the run executing). */
export async function startOne(h: EngineHarness, waitMs = 3000) {
  const [dequeued] = await h.engine.dequeue({ environmentId: h.env.id, consumerId: "c1", maxRuns: 1, waitMs });
  if (!dequeued) throw new Error("nothing to dequeue");
  const started = await h.engine.startRunAttempt(dequeued.runId, dequeued.snapshotId);
  return { runId: dequeued.runId, snapshotId: started.snapshotId, execution: started.execution };
}

export async function waitFor<T>(fn: () => Promise<T | null | undefined | false>, timeoutMs = 5000, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error("waitFor: timed out");
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Counts rows of one database directly (a single-database store over that URL). */
export async function countRows(url: string, table: "TaskRun" | "TaskRunExecutionSnapshot" | "Waitpoint" | "TaskRunWaitpoint" | "BatchTaskRun", column: string, ids: string[]): Promise<number> {
  const { store, close } = createRunStoreFromUrls({ databaseUrl: url, splitEnabled: false, poolSize: 1 });
  try {
    const [client] = store.allClients();
    const rows = await client.$queryRawUnsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM "${table}" WHERE "${column}" = ANY($1)`, ids);
    return rows[0].n;
  } finally {
    await close();
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
