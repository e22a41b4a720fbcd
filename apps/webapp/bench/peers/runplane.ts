/**
 * The Runplane arms of `pnpm bench:peers`: real production servers (fresh databases, own Redis prefix),
 * loaded over HTTP, with a real `runplane-worker` process running the no-op task.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import pg from "pg";
import { Histogram, ProgressSampler, runClosedLoop, runOpenLoop, sqlNumberProbe, type HistogramSummary, type LoadResult, type RequestFactory } from "@runplane/bench-kit";
import { benchPayload } from "@runplane/bench-kit/peers";
import { appDir, startTestServer, type TestServer } from "../../test/support/serverProcess";

const repoRoot = path.resolve(appDir, "../..");
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export type RunplaneKnobs = {
  connections: number;
  warmupMs: number;
  acceptMs: number;
  payloadBytes: number;
  concurrency: number;
  poolSize: number;
};

/** A server for one arm: rate limiter off, and environment/organization concurrency raised so `concurrency` runs can execute at once. */
export async function startBenchServer(knobs: RunplaneKnobs, env: Record<string, string>): Promise<TestServer & { sql: pg.Pool }> {
  const server = await startTestServer({
    split: false,
    env: { API_RATE_LIMIT_ENABLED: "false", DATABASE_POOL_SIZE: String(knobs.poolSize), LOG_LEVEL: "error", ...env },
  });
  const sql = new pg.Pool({ connectionString: server.databaseUrl, max: 2 });
  try {
    // before the first request, so no cache holds the bootstrap default (5)
    const limit = Math.max(1000, knobs.concurrency * 4);
    await sql.query(`UPDATE "Organization" SET "maximumConcurrencyLimit" = $1`, [limit]);
    await sql.query(`UPDATE "RuntimeEnvironment" SET "maximumConcurrencyLimit" = $1`, [limit]);
  } catch (error) {
    await sql.end();
    await server.stop();
    throw error;
  }
  const stop = server.stop.bind(server);
  return Object.assign(server, {
    sql,
    stop: async () => {
      await sql.end();
      return stop();
    },
  });
}

export function triggerRequests(secretKey: string, payloadBytes: number): RequestFactory {
  return (i) => ({
    method: "POST",
    headers: { authorization: `Bearer ${secretKey}`, "content-type": "application/json" },
    body: JSON.stringify({ payload: benchPayload(i, payloadBytes) }),
  });
}

const triggerUrl = (server: TestServer) => `${server.baseUrl}/api/v1/tasks/noop/trigger`;

async function count(sql: pg.Pool, where = "true"): Promise<number> {
  return Number((await sql.query<{ n: string }>(`SELECT count(*)::text AS n FROM "TaskRun" WHERE ${where}`)).rows[0]!.n);
}

/** Closed loop of HTTP triggers, `connections` in flight. */
export async function measureAccept(server: TestServer, knobs: RunplaneKnobs): Promise<LoadResult> {
  return runClosedLoop({
    url: triggerUrl(server),
    request: triggerRequests(server.prodSecretKey, knobs.payloadBytes),
    connections: knobs.connections,
    warmupMs: knobs.warmupMs,
    durationMs: knobs.acceptMs,
  });
}

export type BufferDrainResult = { buffered: number; durable: number; elapsedMs: number; perSec: number; timedOut: boolean; accepted: LoadResult };

/**
 * Drain: the mollifier forced on with its drainer off takes `runs` triggers into the Redis buffer; the
 * server is then killed and restarted with the drainer on, and durable `TaskRun` rows are counted until
 * all are there. The rate is taken between the first sample that saw rows and the one that saw them all.
 */
export async function measureBufferDrain(knobs: RunplaneKnobs, runs: number, timeoutMs: number): Promise<BufferDrainResult> {
  const server = await startBenchServer(knobs, { MOLLIFIER_TRIP_THRESHOLD: "1", MOLLIFIER_HOLD_MS: "600000", MOLLIFIER_DRAINER_ENABLED: "false" });
  try {
    // bounded by count and by time: a slow accept path fills less of the buffer rather than running long
    const accepted = await runClosedLoop({ url: triggerUrl(server), request: triggerRequests(server.prodSecretKey, knobs.payloadBytes), connections: knobs.connections, requests: runs, durationMs: timeoutMs });
    const before = await count(server.sql);
    await server.kill();
    const progress = new ProgressSampler({ intervalMs: 100, probes: { rows: sqlNumberProbe(async (q) => (await server.sql.query(q)).rows, 'SELECT count(*)::int AS n FROM "TaskRun"') } }).start();
    await server.restart({ MOLLIFIER_DRAINER_ENABLED: "true" });
    const done = await progress.waitFor((v) => v.rows >= accepted.ok, timeoutMs);
    const points = await progress.stop();
    const seen = points.filter((p) => Number(p.values.rows) > before);
    const first = seen[0];
    const last = done ?? points[points.length - 1];
    const durable = Number(last?.values.rows ?? before) - before;
    const fromFirst = first && last ? Number(last.values.rows) - Number(first.values.rows) : 0;
    const elapsedMs = first && last ? last.at - first.at : 0;
    return { buffered: accepted.ok - before, durable, elapsedMs, perSec: elapsedMs > 0 ? fromFirst / (elapsedMs / 1000) : 0, timedOut: !done, accepted };
  } finally {
    await server.stop();
  }
}

/** A `runplane-worker` process running the no-op task against `server`. */
export function startWorkerProcess(server: TestServer, concurrency: number): { child: ChildProcess; output: () => string; stop: () => Promise<void> } {
  const bin = path.join(repoRoot, "packages/worker/bin/runplane-worker.mjs");
  const child = spawn(process.execPath, [bin, path.join(appDir, "bench/peers/noop-task.ts"), "--concurrency", String(concurrency), "--version", "bench-1", "--log-level", "error", "--shutdown-timeout-ms", "5000"], {
    cwd: appDir,
    env: { PATH: process.env.PATH ?? "", NODE_ENV: "production", RUNPLANE_API_URL: server.baseUrl, RUNPLANE_SECRET_KEY: server.prodSecretKey },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (c) => (out = (out + c).slice(-20_000)));
  child.stderr!.on("data", (c) => (out = (out + c).slice(-20_000)));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return {
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export type ExecutionResult = { runs: number; completed: number; elapsedMs: number; perSec: number; timedOut: boolean; triggered: LoadResult };

/**
 * End to end: `runs` HTTP triggers with no worker running, then the worker process starts and drains them;
 * COMPLETED_SUCCESSFULLY rows are counted in the database. The rate is between the first and the last
 * `completedAt` (worker start-up excluded), as the peers' drain is between their first and last job.
 */
export async function measureExecution(server: TestServer & { sql: pg.Pool }, knobs: RunplaneKnobs, runs: number, timeoutMs: number, worker: () => ReturnType<typeof startWorkerProcess>) {
  const triggered = await runClosedLoop({ url: triggerUrl(server), request: triggerRequests(server.prodSecretKey, knobs.payloadBytes), connections: knobs.connections, requests: runs, durationMs: timeoutMs });
  const running = worker();
  const deadline = Date.now() + timeoutMs;
  let completed = 0;
  while (Date.now() < deadline) {
    completed = await count(server.sql, `status = 'COMPLETED_SUCCESSFULLY'`);
    if (completed >= triggered.ok) break;
    if (running.child.exitCode !== null) throw new Error(`the worker exited: ${running.output()}`);
    await sleep(200);
  }
  const span = (
    await server.sql.query<{ ms: number | null }>(
      `SELECT (EXTRACT(EPOCH FROM max("completedAt") - min("completedAt")) * 1000)::float8 AS ms FROM "TaskRun" WHERE status = 'COMPLETED_SUCCESSFULLY'`
    )
  ).rows[0]!.ms;
  const elapsedMs = Number(span ?? 0);
  const result: ExecutionResult = { runs: triggered.ok, completed, elapsedMs, perSec: completed > 1 && elapsedMs > 0 ? (completed - 1) / (elapsedMs / 1000) : 0, timedOut: completed < triggered.ok, triggered };
  return { result, worker: running };
}

/** Waits until the worker runs a first (unmeasured) trigger to completion: it has registered and is polling. */
export async function waitForWorkerReady(server: TestServer & { sql: pg.Pool }, knobs: RunplaneKnobs, worker: ReturnType<typeof startWorkerProcess>, timeoutMs: number): Promise<void> {
  const spec = triggerRequests(server.prodSecretKey, knobs.payloadBytes)(0);
  const res = await fetch(triggerUrl(server), { method: "POST", headers: spec.headers, body: spec.body as string });
  if (!res.ok) throw new Error(`warm-up trigger refused: ${res.status} ${await res.text()}`);
  const deadline = Date.now() + timeoutMs;
  while ((await count(server.sql, `status = 'COMPLETED_SUCCESSFULLY'`)) === 0) {
    if (worker.child.exitCode !== null) throw new Error(`the worker exited: ${worker.output()}`);
    if (Date.now() > deadline) throw new Error(`the worker ran nothing within ${timeoutMs} ms: ${worker.output()}`);
    await sleep(100);
  }
}

export type RunplaneLatencyResult = {
  rate: number;
  durationMs: number;
  http: LoadResult;
  created: number;
  started: number;
  /** Runs created in the window but not started when the window closed / when the wait ended. */
  backlogAtWindowEnd: number;
  backlogAtEnd: number;
  peakBacklog: number;
  /** created → attempt started (`executedAt`), ms. Unstarted runs count with their age at the end: then p50/p99 are lower bounds. */
  latency: HistogramSummary;
  lowerBound: boolean;
};

/**
 * Trigger → start with the worker running: an open loop of HTTP triggers at `rate`/s for `durationMs`,
 * then up to `waitMs` for the runs to start. Latency from the database: `createdAt` → `executedAt`.
 */
export async function measureTriggerToStart(server: TestServer & { sql: pg.Pool }, knobs: RunplaneKnobs, rate: number, durationMs: number, waitMs: number): Promise<RunplaneLatencyResult> {
  const since = new Date();
  const window = `"createdAt" >= '${since.toISOString()}'`;
  const backlog = sqlNumberProbe(async (q) => (await server.sql.query(q)).rows, `SELECT count(*)::int AS n FROM "TaskRun" WHERE ${window} AND "executedAt" IS NULL`);
  const progress = new ProgressSampler({ intervalMs: 500, probes: { backlog } }).start();
  const http = await runOpenLoop({
    url: triggerUrl(server),
    request: triggerRequests(server.prodSecretKey, knobs.payloadBytes),
    rate,
    durationMs,
    connections: knobs.connections,
    drainTimeoutMs: waitMs,
  });
  const backlogAtWindowEnd = await backlog();
  const deadline = Date.now() + waitMs;
  let backlogAtEnd = backlogAtWindowEnd;
  while (backlogAtEnd > 0 && Date.now() < deadline) {
    await sleep(250);
    backlogAtEnd = await backlog();
  }
  await progress.stop();
  const rows = (
    await server.sql.query<{ ms: number; started: boolean }>(
      `SELECT (EXTRACT(EPOCH FROM coalesce("executedAt", clock_timestamp()) - "createdAt") * 1000)::float8 AS ms, "executedAt" IS NOT NULL AS started FROM "TaskRun" WHERE ${window}`
    )
  ).rows;
  const histogram = new Histogram();
  for (const r of rows) histogram.record(Number(r.ms));
  const started = rows.filter((r) => r.started).length;
  return {
    rate,
    durationMs,
    http,
    created: rows.length,
    started,
    backlogAtWindowEnd,
    backlogAtEnd,
    peakBacklog: Math.max(backlogAtWindowEnd, progress.peak("backlog")),
    latency: histogram.summary(),
    lowerBound: started < rows.length,
  };
}
