/**
 * `pnpm bench:peers` — Runplane beside graphile-worker and BullMQ, in one run, on the same local Postgres
 * and Redis (each peer on its own fresh database or Redis key prefix, removed afterwards):
 *
 *   1. trigger acceptance, closed loop: Runplane HTTP (mollifier off; mollifier forced on with the drainer
 *      running), a floor server (bare node:http + one Redis Lua write), graphile-worker `addJob`, BullMQ `add`;
 *   2. drain: mollifier forced on, buffer filled with the drainer off, then durable rows/s once it runs;
 *   3. end to end: runs pre-triggered over HTTP, then a real `runplane-worker` process (no-op task) drains
 *      them to COMPLETED; vs graphile-worker and BullMQ no-op drains at the same concurrency;
 *   4. trigger → start, open loop at each BENCH_LATENCY_RATES with the worker running (a fresh server per rate);
 *   5. engine level (no HTTP): the run-engine package's `bench` script.
 *
 * Prints the ratio table and writes bench/results/peers.md and bench/results/peers.png (repository root).
 *
 * Knobs (env): BENCH_CONNECTIONS (50) BENCH_WARMUP_MS (2000) BENCH_ACCEPT_MS (10000) BENCH_PAYLOAD_BYTES (256)
 *   BENCH_CONCURRENCY (50: worker slots of every arm) BENCH_POOL (20: the server's Postgres pool)
 *   BENCH_E2E_RUNS (3000) BENCH_E2E_TIMEOUT_MS (45000) BENCH_PEER_DRAIN_JOBS (20000)
 *   BENCH_DRAIN_RUNS (3000) BENCH_DRAIN_TIMEOUT_MS (60000)
 *   BENCH_LATENCY_RATES (200,1000) BENCH_LATENCY_MS (10000) BENCH_LATENCY_WAIT_MS (15000)
 *   BENCH_ENGINE_RUNS (2000; 0 skips the engine arm) BENCH_OUT (bench/results) BENCH_SKIP_BUILD=1
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { loadavg } from "node:os";
import path from "node:path";
import pg from "pg";
import { Redis } from "ioredis";
import { CpuSampler, runClosedLoop, standardGroups, type HistogramSummary, type LoadResult } from "@runplane/bench-kit";
import { createBullmqPeer, createGraphilePeer, measureAdd, measureDrain, measureStartLatency, peerVersion, startFloorServer, type PeerQueue } from "@runplane/bench-kit/peers";
import { TEST_DATABASE_URL, TEST_REDIS_URL } from "@internal/testcontainers/config";
import { appDir, buildServer } from "../test/support/serverProcess";
import { runEngineBench } from "./peers/engine";
import { buildRows, formatRowsForTerminal, writeChart, writeMarkdown, type PeerResults } from "./peers/report";
import { measureAccept, measureBufferDrain, measureExecution, measureTriggerToStart, startBenchServer, startWorkerProcess, triggerRequests, waitForWorkerReady, type RunplaneKnobs } from "./peers/runplane";

const num = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
const repoRoot = path.resolve(appDir, "../..");
const knobs: RunplaneKnobs = {
  connections: num("BENCH_CONNECTIONS", 50),
  warmupMs: num("BENCH_WARMUP_MS", 2_000),
  acceptMs: num("BENCH_ACCEPT_MS", 10_000),
  payloadBytes: num("BENCH_PAYLOAD_BYTES", 256),
  concurrency: num("BENCH_CONCURRENCY", 50),
  poolSize: num("BENCH_POOL", 20),
};
const E2E_RUNS = num("BENCH_E2E_RUNS", 3_000);
const E2E_TIMEOUT_MS = num("BENCH_E2E_TIMEOUT_MS", 45_000);
const PEER_DRAIN_JOBS = num("BENCH_PEER_DRAIN_JOBS", 20_000);
const DRAIN_RUNS = num("BENCH_DRAIN_RUNS", 3_000);
const DRAIN_TIMEOUT_MS = num("BENCH_DRAIN_TIMEOUT_MS", 60_000);
const LATENCY_RATES = (process.env.BENCH_LATENCY_RATES ?? "200,1000").split(",").map(Number).filter((n) => n > 0);
const LATENCY_MS = num("BENCH_LATENCY_MS", 10_000);
const LATENCY_WAIT_MS = num("BENCH_LATENCY_WAIT_MS", 15_000);
const ENGINE_RUNS = num("BENCH_ENGINE_RUNS", 2_000);
const OUT_DIR = path.resolve(repoRoot, process.env.BENCH_OUT ?? "bench/results");

const results: PeerResults = { accept: {}, execution: {}, latency: LATENCY_RATES.map((rate) => ({ rate })), cpu: [], failures: [] };

/** Runs one arm; a failure is recorded and the bench goes on. `summary` gives the one-line progress report. */
async function arm<T>(name: string, fn: () => Promise<T>, summary?: (value: T) => string): Promise<T | undefined> {
  const started = Date.now();
  process.stdout.write(`· ${name}… `);
  try {
    const value = await fn();
    console.log(`${summary ? `${summary(value)}; ` : ""}${((Date.now() - started) / 1000).toFixed(1)} s`);
    return value;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.log(`FAILED: ${message.split("\n")[0]}`);
    results.failures.push({ arm: name, error: message });
    return undefined;
  }
}

const accepted = (r: LoadResult) => `${r.acceptedPerSec.toFixed(0)}/s, p99 ${r.latency.p99.toFixed(1)} ms${r.errorRate > 0 ? `, error rate ${(r.errorRate * 100).toFixed(1)} %` : ""}`;
const latencyLine = (h: HistogramSummary, neverStarted: number) => `p50 ${h.p50.toFixed(1)} ms, p99 ${h.p99.toFixed(1)} ms over ${h.count}${neverStarted > 0 ? `, ${neverStarted} never started` : ""}`;

// A library's background error (e.g. a pool refusing a connection) must not end the run unreported.
for (const event of ["uncaughtException", "unhandledRejection"] as const) {
  process.on(event, (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`\n${event}: ${message}`);
    results.failures.push({ arm: event, error: message });
  });
}

/** Runs `fn` with a CPU sampler over `server` (a process tree), Postgres, Redis and this process; keeps the averages under `label`. */
async function withCpu<T>(label: string, serverPid: number | undefined, fn: () => Promise<T>): Promise<T> {
  const groups = standardGroups({ webappPid: serverPid });
  const sampler = new CpuSampler({ groups, intervalMs: 500 }).start();
  const from = Date.now();
  try {
    return await fn();
  } finally {
    const report = sampler.report(from, Date.now());
    sampler.stop();
    const avg = (name: string) => report.groups[name]?.avgPercent;
    results.cpu.push({ label, server: avg("webapp"), loadgen: avg("loadgen"), postgres: avg("postgres"), redis: avg("redis"), machine: report.machineAvgPercent * report.cores });
  }
}

const uptime = () => {
  try {
    return execFileSync("uptime", { encoding: "utf8" }).trim();
  } catch {
    return `load average: ${loadavg().map((l) => l.toFixed(2)).join(", ")}`;
  }
};

async function serviceVersions(): Promise<{ postgres: string; redis: string }> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  const postgres = (await client.query<{ server_version: string }>("SHOW server_version")).rows[0]!.server_version;
  await client.end();
  const redis = new Redis(TEST_REDIS_URL);
  const info = await redis.info("server");
  redis.disconnect();
  return { postgres, redis: /redis_version:(\S+)/.exec(info)?.[1] ?? "unknown" };
}

async function runplaneArms(): Promise<void> {
  await arm("floor server: closed loop", async () => {
    const floor = await startFloorServer(TEST_REDIS_URL);
    try {
      const request = triggerRequests("floor", knobs.payloadBytes);
      results.accept.floor = await withCpu("floor server", floor.pid, () =>
        runClosedLoop({ url: floor.url, request, connections: knobs.connections, warmupMs: knobs.warmupMs, durationMs: knobs.acceptMs })
      );
      return results.accept.floor;
    } finally {
      await floor.stop();
    }
  }, accepted);
  await arm("Runplane HTTP trigger, mollifier off", async () => {
    const server = await startBenchServer(knobs, { MOLLIFIER_ENABLED: "false" });
    try {
      return (results.accept.off = await withCpu("Runplane, mollifier off", server.pid(), () => measureAccept(server, knobs)));
    } finally {
      await server.stop();
    }
  }, accepted);
  await arm("Runplane HTTP trigger, mollifier forced on, drainer running", async () => {
    const server = await startBenchServer(knobs, { MOLLIFIER_TRIP_THRESHOLD: "1", MOLLIFIER_HOLD_MS: "600000" });
    try {
      return (results.accept.on = await withCpu("Runplane, mollifier forced on", server.pid(), () => measureAccept(server, knobs)));
    } finally {
      await server.stop();
    }
  }, accepted);
  await arm(`Runplane drain of ${DRAIN_RUNS} buffered triggers`, async () => {
    return (results.bufferDrain = await measureBufferDrain(knobs, DRAIN_RUNS, DRAIN_TIMEOUT_MS));
  }, (d) => `${d.durable}/${d.buffered} durable at ${d.perSec.toFixed(0)}/s${d.timedOut ? " (timed out)" : ""}`);
  await arm(
    `Runplane end to end (${E2E_RUNS} runs)`,
    async () => {
      const server = await startBenchServer(knobs, { MOLLIFIER_ENABLED: "false" });
      let stopWorker: (() => Promise<void>) | undefined;
      try {
        const { result, worker } = await measureExecution(server, knobs, E2E_RUNS, E2E_TIMEOUT_MS, () => startWorkerProcess(server, knobs.concurrency));
        stopWorker = worker.stop;
        return (results.execution.runplane = result);
      } finally {
        await stopWorker?.();
        await server.stop();
      }
    },
    (r) => `${r.completed}/${r.runs} completed at ${r.perSec.toFixed(1)}/s${r.timedOut ? " (timed out)" : ""}`
  );
  // a fresh server and worker per rate, so no backlog of an earlier phase delays this one
  for (const slot of results.latency) {
    await arm(
      `Runplane trigger → start at ${slot.rate}/s`,
      async () => {
        const server = await startBenchServer(knobs, { MOLLIFIER_ENABLED: "false" });
        const worker = startWorkerProcess(server, knobs.concurrency);
        try {
          await waitForWorkerReady(server, knobs, worker, 60_000);
          return (slot.runplane = await measureTriggerToStart(server, knobs, slot.rate, LATENCY_MS, LATENCY_WAIT_MS));
        } finally {
          await worker.stop();
          await server.stop();
        }
      },
      (l) => `${latencyLine(l.latency, l.backlogAtEnd)}${l.lowerBound ? " (lower bounds)" : ""}, backlog at window end ${l.backlogAtWindowEnd}, HTTP ${l.http.acceptedPerSec.toFixed(0)}/s accepted`
    );
  }
}

async function peerArms(name: string, create: () => Promise<PeerQueue>, key: "graphile" | "bullmq"): Promise<void> {
  let peer: PeerQueue | undefined;
  try {
    peer = await arm(`${name}: set up`, create);
    if (!peer) return;
    const p = peer;
    results.accept[key] = await arm(
      `${name}: single add, ${knobs.connections} in flight`,
      () => withCpu(`${name} add (in the bench process)`, undefined, () => measureAdd(p, { concurrency: knobs.connections, warmupMs: knobs.warmupMs, durationMs: knobs.acceptMs, payloadBytes: knobs.payloadBytes })),
      (a) => `${a.perSec.toFixed(0)}/s, p99 ${a.latency.p99.toFixed(1)} ms${a.errors ? `, ${a.errors} errors (${a.firstError})` : ""}`
    );
    await p.clear();
    results.execution[key] = await arm(
      `${name}: no-op drain of ${PEER_DRAIN_JOBS}`,
      () => measureDrain(p, { jobs: PEER_DRAIN_JOBS, concurrency: knobs.concurrency, timeoutMs: E2E_TIMEOUT_MS, payloadBytes: knobs.payloadBytes }),
      (d) => `${d.done}/${d.jobs} at ${d.perSec.toFixed(0)}/s${d.timedOut ? " (timed out)" : ""}`
    );
    await p.clear();
    for (const slot of results.latency) {
      slot[key] = await arm(
        `${name}: add → start at ${slot.rate}/s`,
        () => measureStartLatency(p, { rate: slot.rate, durationMs: LATENCY_MS, concurrency: knobs.concurrency, drainTimeoutMs: LATENCY_WAIT_MS, payloadBytes: knobs.payloadBytes }),
        (l) => latencyLine(l.latency, l.backlogAtEnd)
      );
      await p.clear();
    }
  } finally {
    await peer?.close().catch((error: Error) => results.failures.push({ arm: `${name}: clean-up`, error: error.message }));
  }
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const loadStart = uptime();
  console.log(`bench:peers at ${startedAt.toISOString()}; ${loadStart}`);
  if (process.env.BENCH_SKIP_BUILD === "1" && existsSync(path.join(appDir, "build/server/index.js"))) {
    console.log("using the existing production build (BENCH_SKIP_BUILD=1)");
  } else {
    console.log("building the production server…");
    buildServer();
  }

  await runplaneArms();
  await peerArms("graphile-worker", () => createGraphilePeer(TEST_DATABASE_URL, { poolSize: knobs.poolSize }), "graphile");
  await peerArms("BullMQ", () => createBullmqPeer(TEST_REDIS_URL), "bullmq");
  if (ENGINE_RUNS > 0) {
    results.engine = await arm(
      `engine level (bench:engine, ${ENGINE_RUNS} runs)`,
      () => runEngineBench({ BENCH_RUNS: String(ENGINE_RUNS), BENCH_TRIGGER_CONCURRENCY: String(knobs.connections), BENCH_SPLIT: "0" }, 180_000),
      (e) => `trigger ${e.trigger.perSecond}/s, execute ${e.execute.perSecond}/s`
    );
  }

  const loadEnd = uptime();
  const rows = buildRows(results);
  console.log(`\nRunplane vs peers, one run (${startedAt.toISOString()})\n`);
  console.log(formatRowsForTerminal(rows));
  if (results.failures.length > 0) console.log(`\nfailed arms: ${results.failures.map((f) => f.arm).join("; ")}`);

  const versions = await serviceVersions();
  let commit = "unknown";
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: repoRoot, encoding: "utf8" }).trim();
  } catch {
    // not a git checkout
  }
  const chart = writeChart(path.join(OUT_DIR, "peers.png"), rows, startedAt.toISOString().slice(0, 16).replace("T", " ") + " UTC");
  const file = path.join(OUT_DIR, "peers.md");
  writeMarkdown(file, {
    rows,
    cpu: results.cpu,
    chart,
    failures: results.failures,
    meta: {
      date: `${startedAt.toISOString()} → ${new Date().toISOString()}`,
      "load at start": loadStart,
      "load at end": loadEnd,
      machine: `${(await import("node:os")).cpus().length} cores, Node ${process.version}, PostgreSQL ${versions.postgres}, Redis ${versions.redis}`,
      versions: `Runplane ${commit}, graphile-worker ${peerVersion("graphile-worker")}, BullMQ ${peerVersion("bullmq")}`,
    },
    knobs: {
      BENCH_CONNECTIONS: knobs.connections,
      BENCH_WARMUP_MS: knobs.warmupMs,
      BENCH_ACCEPT_MS: knobs.acceptMs,
      BENCH_PAYLOAD_BYTES: knobs.payloadBytes,
      BENCH_CONCURRENCY: knobs.concurrency,
      BENCH_POOL: knobs.poolSize,
      BENCH_E2E_RUNS: E2E_RUNS,
      BENCH_E2E_TIMEOUT_MS: E2E_TIMEOUT_MS,
      BENCH_PEER_DRAIN_JOBS: PEER_DRAIN_JOBS,
      BENCH_DRAIN_RUNS: DRAIN_RUNS,
      BENCH_DRAIN_TIMEOUT_MS: DRAIN_TIMEOUT_MS,
      BENCH_LATENCY_RATES: LATENCY_RATES.join(","),
      BENCH_LATENCY_MS: LATENCY_MS,
      BENCH_LATENCY_WAIT_MS: LATENCY_WAIT_MS,
      BENCH_ENGINE_RUNS: ENGINE_RUNS,
    },
    notes: [
      `Everything ran in one process tree on the same Postgres and Redis: Runplane as a production server process (single-database mode, fresh databases, own Redis prefix, API rate limiter off, environment concurrency raised above the worker's slots); graphile-worker on its own fresh database (its pools capped at BENCH_POOL = ${knobs.poolSize}, the Runplane server's DATABASE_POOL_SIZE), BullMQ under its own key prefix (completed jobs removed), both in the bench process as their users run them; each removed afterwards.`,
      `Trigger acceptance: a closed loop of ${knobs.connections} requests (or calls) in flight, ${knobs.warmupMs} ms warm-up then ${knobs.acceptMs} ms measured, ${knobs.payloadBytes}-byte JSON payloads. Runplane: POST /api/v1/tasks/noop/trigger; the floor server: the same request to bare node:http doing one Redis Lua write (hash + list + trip counter). Mollifier forced on = MOLLIFIER_TRIP_THRESHOLD=1 with the drainer running in the same server.`,
      `Drain: mollifier forced on with the drainer off takes ${DRAIN_RUNS} triggers into the buffer; the server is killed and restarted with the drainer on; durable TaskRun rows are counted every 100 ms, rate from the first sample that saw rows to the one that saw them all.`,
      `End to end: ${E2E_RUNS} runs triggered over HTTP with no worker, then a runplane-worker process (--concurrency ${knobs.concurrency}, no-op task) runs them; COMPLETED_SUCCESSFULLY rows counted in the database, rate between the first and last completedAt, stopped after ${E2E_TIMEOUT_MS} ms. Peers: ${PEER_DRAIN_JOBS} jobs pre-filled in bulk, then a worker at concurrency ${knobs.concurrency}, rate between the first and last handler call.`,
      `Trigger → start: a fresh server (mollifier off) and worker per rate, made ready by one unmeasured run; then an open loop (latency from the intended send time, no coordinated omission) for ${LATENCY_MS} ms per rate with the worker running, then up to ${LATENCY_WAIT_MS} ms for stragglers. Runplane: createdAt → executedAt (attempt started) from the database; runs that never started count with their age at the end, and the percentiles are then marked "≥" (lower bounds). Peers: handler start − intended add time, at most 100 adds in flight (later ones wait in the generator and count from their intended time); jobs that never started count with their age, as for Runplane. Backlog = runs created (jobs scheduled) but not started.`,
      `Engine level: the run-engine package's own bench (\`pnpm bench:engine\`) with BENCH_RUNS=${ENGINE_RUNS}: engine.trigger with ${knobs.connections} in flight, then dequeue → start → complete with a no-op, no HTTP.`,
      "Ratios are Runplane ÷ peer for throughput (higher is better) and Runplane p99 ÷ peer p99 for latency (lower is better).",
    ],
  });
  console.log(`\nwrote ${path.relative(repoRoot, file)} and ${path.relative(repoRoot, chart)}`);
}

main()
  .then(() => process.exit(0))
  .catch((error) => {
    console.error(error);
    process.exit(1);
  });
