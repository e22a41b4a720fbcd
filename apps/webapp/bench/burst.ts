/**
 * `pnpm bench:burst` — the mollifier benchmarks (B1 acceptance, B2 burst from many environments), sized for a
 * 2-core box: real production servers on fresh databases, 10 environments in 3 organisations.
 *
 * - B1 trigger acceptance: closed loop (50 connections, 1 KB payload) against the mollifier OFF,
 *   forced ON (threshold 1: every trigger buffered) with the drainer off (the pure accept path) and
 *   on (accept + drain in one process), then an open loop at 75 % of each arm's max.
 * - B2 burst absorption: an open-loop step of BENCH_BURST triggers (default 20k) at BENCH_RATE/s from
 *   10 envs in 3 orgs, one env sending 90 %, mollifier ON (default trip) vs OFF: % accepted, HTTP
 *   p99, time until every run is a durable row, peak buffered, PG/Redis CPU, Redis peak memory.
 *   Writes a PNG of accepted/s and drained/s over time (bench-results/burst-b2.png).
 *
 * Env: BENCH_BURST (20000), BENCH_RATE (4000), BENCH_B1_SECONDS (10), BENCH_ONLY (b1|b2),
 * BENCH_TRIP_THRESHOLD (the on arm's trip; lower it when the box cannot accept fast enough to trip
 * the default 100 per 200 ms).
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { Redis } from "ioredis";
import {
  CpuSampler,
  ProgressSampler,
  cpuPerRequest,
  formatLoadTable,
  formatTable,
  jsonOfSize,
  loadSeries,
  redisUsedMemoryProbe,
  runClosedLoop,
  runOpenLoop,
  sqlNumberProbe,
  standardGroups,
  writeLineChart,
  writeResultsJson,
  type LoadResult,
  type RequestFactory,
} from "@runplane/bench-kit";
// subpaths: the package index also exports vitest fixtures, which need a vitest runner
import { TEST_REDIS_URL } from "@internal/testcontainers/config";
import { createTestDatabase } from "@internal/testcontainers/postgres";
import { createTestRedis } from "@internal/testcontainers/redis";

const appDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const repoRoot = path.resolve(appDir, "../..");
const BURST = Number(process.env.BENCH_BURST ?? 20_000);
const RATE = Number(process.env.BENCH_RATE ?? 4_000);
const B1_SECONDS = Number(process.env.BENCH_B1_SECONDS ?? 10);
const ONLY = process.env.BENCH_ONLY;
/** The B2 "on" arm's MOLLIFIER_TRIP_THRESHOLD (per 200 ms window); unset = the default (100). */
const TRIP_THRESHOLD = process.env.BENCH_TRIP_THRESHOLD;

type Env = { key: string; org: number; id: string };
type Server = { base: string; pid: number; databaseUrl: string; keyPrefix: string; envs: Env[]; stop: () => Promise<void> };

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

const token = (n = 10) => randomBytes(n).toString("hex");

/** 3 orgs × (4, 3, 3) production envs, straight into the control plane (the resolver finds keys on a miss). */
async function createTenants(databaseUrl: string): Promise<Env[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const envs: Env[] = [];
  try {
    for (let org = 0; org < 3; org++) {
      const orgId = `c${token(12)}`;
      const projectId = `c${token(12)}`;
      await client.query(`INSERT INTO "Organization" (id, slug, title, "updatedAt") VALUES ($1, $2, $3, now())`, [orgId, `bench-org-${org}-${token(3)}`, `Bench ${org}`]);
      await client.query(`INSERT INTO "Project" (id, slug, name, "externalRef", "organizationId", "updatedAt") VALUES ($1, $2, $3, $4, $5, now())`, [
        projectId,
        `bench-${org}-${token(3)}`,
        `Bench ${org}`,
        `proj_${token(8)}`,
        orgId,
      ]);
      const count = org === 0 ? 4 : 3;
      for (let e = 0; e < count; e++) {
        const id = `c${token(12)}`;
        const key = `tr_prod_${token(12)}`;
        await client.query(
          `INSERT INTO "RuntimeEnvironment" (id, slug, type, "apiKey", "pkApiKey", shortcode, "maximumConcurrencyLimit", "projectId", "organizationId", "updatedAt")
           VALUES ($1, $2, 'PRODUCTION', $3, $4, $5, 100, $6, $7, now())`,
          [id, `prod-${e}`, key, `pk_prod_${token(12)}`, token(4), projectId, orgId]
        );
        envs.push({ key, org, id });
      }
    }
  } finally {
    await client.end();
  }
  return envs;
}

async function startServer(extraEnv: Record<string, string>): Promise<Server> {
  const db = await createTestDatabase("control-plane");
  const redis = createTestRedis();
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? "",
    NODE_ENV: "production",
    PORT: String(port),
    APP_ORIGIN: `http://127.0.0.1:${port}`,
    DATABASE_URL: db.url,
    DATABASE_POOL_SIZE: "20",
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: redis.keyPrefix,
    SESSION_SECRET: "bench-session-secret-0123456789",
    LOG_LEVEL: "error",
    API_RATE_LIMIT_ENABLED: "false",
    ...extraEnv,
  };
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "server.ts"], { cwd: appDir, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (c) => (out += c));
  child.stderr!.on("data", (c) => (out += c));
  const deadline = Date.now() + 60_000;
  while (!out.includes("Runplane is ready")) {
    if (child.exitCode !== null) throw new Error(`server exited: ${out}`);
    if (Date.now() > deadline) throw new Error(`server not ready: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const envs = await createTenants(db.url);
  return {
    base: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    databaseUrl: db.url,
    keyPrefix: redis.keyPrefix,
    envs,
    stop: async () => {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
      await Promise.allSettled([db.drop(), redis.cleanup()]);
    },
  };
}

/** One env sends 90 %; the other 9 share the rest. */
function triggerFactory(envs: Env[]): RequestFactory {
  return (i) => {
    const env = i % 10 < 9 ? envs[0]! : envs[1 + (Math.floor(i / 10) % 9)]!;
    return {
      headers: { authorization: `Bearer ${env.key}`, "content-type": "application/json" },
      body: { payload: jsonOfSize(1024, { i }) },
      tag: env === envs[0] ? "heavy" : "light",
    };
  };
}

async function b1() {
  const arms: { label: string; runs: LoadResult[] }[] = [];
  const cpuRows: [string, string | number][] = [];
  for (const [label, env] of [
    ["mollifier off", { MOLLIFIER_ENABLED: "false" }],
    ["forced on (threshold 1), drainer off: the accept path", { MOLLIFIER_TRIP_THRESHOLD: "1", MOLLIFIER_HOLD_MS: "60000", MOLLIFIER_DRAINER_ENABLED: "false" }],
    ["forced on (threshold 1), drainer on", { MOLLIFIER_TRIP_THRESHOLD: "1", MOLLIFIER_HOLD_MS: "60000" }],
  ] as const) {
    const server = await startServer(env);
    try {
      const url = `${server.base}/api/v1/tasks/hello/trigger`;
      const request = triggerFactory(server.envs);
      const cpu = new CpuSampler({ groups: standardGroups({ webappPid: server.pid }) }).start();
      const closed = await runClosedLoop({ url, connections: 50, warmupMs: 2_000, durationMs: B1_SECONDS * 1000, request });
      const report = cpu.report(Date.parse(closed.startedAt), Date.parse(closed.startedAt) + closed.elapsedMs);
      cpu.stop();
      const open = await runOpenLoop({ url, rate: Math.max(1, Math.round(closed.acceptedPerSec * 0.75)), durationMs: (B1_SECONDS * 1000) / 2, connections: 50, request });
      arms.push({ label: `${label}: closed 50 conns`, runs: [closed] }, { label: `${label}: open @ 75 %`, runs: [open] });
      const perTrigger = cpuPerRequest(report, closed.ok);
      cpuRows.push([
        `${label}: on-CPU ms / accepted trigger`,
        `total ${perTrigger.total} (webapp ${perTrigger.webapp ?? "-"}, postgres ${perTrigger.postgres ?? "-"}, redis ${perTrigger.redis ?? "-"}, loadgen ${perTrigger.loadgen ?? "-"})`,
      ]);
    } finally {
      await server.stop();
    }
  }
  console.log("\nB1 — trigger acceptance (1 KB payload, 10 envs / 3 orgs, one env 90 %)");
  console.log(formatLoadTable(arms));
  console.log(formatTable([{ header: "metric", value: (r: [string, string | number]) => r[0] }, { header: "value", value: (r) => r[1], align: "right" }], cpuRows));
  return arms;
}

async function b2Arm(label: string, env: Record<string, string>, chartPath?: string) {
  const server = await startServer(env);
  const pgPool = new pg.Pool({ connectionString: server.databaseUrl, max: 2 });
  const redis = new Redis(TEST_REDIS_URL);
  try {
    const url = `${server.base}/api/v1/tasks/hello/trigger`;
    const progress = new ProgressSampler({
      intervalMs: 250,
      probes: {
        rows: sqlNumberProbe(async (sql) => (await pgPool.query(sql)).rows, 'SELECT count(*)::int AS n FROM "TaskRun"'),
        buffered: async () => Number((await redis.get(`${server.keyPrefix}mollifier:depth`)) ?? 0),
        redisMemory: redisUsedMemoryProbe(redis),
        pgConnections: sqlNumberProbe(async (sql) => (await pgPool.query(sql)).rows, "SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active'"),
      },
    }).start();
    const cpu = new CpuSampler({ groups: standardGroups({ webappPid: server.pid }) }).start();
    const step = await runOpenLoop({ url, rate: RATE, requests: BURST, connections: 100, maxInFlight: 400, timeoutMs: 30_000, request: triggerFactory(server.envs) });
    const durable = await progress.waitFor((v) => v.rows >= step.ok, 300_000);
    const points = await progress.stop();
    const cpuReport = cpu.stop();
    const origin = points[0]!.at;
    const stepStart = Date.parse(step.startedAt);
    const light = step.byTag?.light;
    const row = {
      label,
      sent: step.sent,
      acceptedPct: ((step.ok / Math.max(1, step.sent)) * 100).toFixed(1),
      acceptedPerSec: step.acceptedPerSec.toFixed(0),
      p99: step.latency.p99.toFixed(0),
      lightP99: light ? light.latency.p99.toFixed(0) : "-",
      non2xx: Object.values(step.non2xx ?? {}).reduce((a: number, b) => a + Number(b), 0) + Object.values(step.errors ?? {}).reduce((a: number, b) => a + Number(b), 0),
      durableS: durable ? ((durable.at - stepStart) / 1000).toFixed(1) : "timeout",
      peakBuffered: progress.peak("buffered"),
      redisPeakMb: (progress.peak("redisMemory") / 1e6).toFixed(1),
      pgActivePeak: progress.peak("pgConnections"),
      webappCpu: cpuReport.groups.webapp?.avgPercent ?? "-",
      pgCpu: cpuReport.groups.postgres?.avgPercent ?? "-",
      redisCpu: cpuReport.groups.redis?.avgPercent ?? "-",
    };
    let chart: string | undefined;
    if (chartPath) {
      chart = writeLineChart(chartPath, {
        title: `B2: ${BURST} triggers at ${RATE}/s, 10 envs / 3 orgs (one 90 %): ${label}`,
        xLabel: "time (s)",
        yLabel: "per second",
        y2Label: "buffered",
        series: [
          { name: "accepted/s", points: loadSeries(step, "ok", origin) },
          { name: "drained/s (rows)", points: progress.rate("rows", { step: true }) },
          { name: "buffered", points: progress.series("buffered"), axis: "right" },
        ],
        markers: [{ x: (stepStart - origin) / 1000 + BURST / RATE, label: "step ends" }],
      });
    }
    return { row, step, points, cpuReport, chart };
  } finally {
    await pgPool.end();
    redis.disconnect();
    await server.stop();
  }
}

async function b2() {
  const resultsDir = path.join(repoRoot, "bench-results");
  mkdirSync(resultsDir, { recursive: true });
  const on = await b2Arm(
    TRIP_THRESHOLD ? `mollifier on (trip ${TRIP_THRESHOLD}/200 ms)` : "mollifier on (default trip)",
    TRIP_THRESHOLD ? { MOLLIFIER_TRIP_THRESHOLD: TRIP_THRESHOLD } : {},
    path.join(resultsDir, "burst-b2.png")
  );
  const off = await b2Arm("mollifier off", { MOLLIFIER_ENABLED: "false" }, path.join(resultsDir, "burst-b2-off.png"));
  const rows = [on.row, off.row];
  console.log(`\nB2 — burst absorption: ${BURST} triggers at ${RATE}/s, open loop, 10 envs / 3 orgs, one env 90 %`);
  console.log(
    formatTable(
      [
        { header: "arm", value: (r: (typeof rows)[number]) => r.label },
        { header: "accepted %", value: (r) => r.acceptedPct, align: "right" },
        { header: "accepted/s", value: (r) => r.acceptedPerSec, align: "right" },
        { header: "HTTP p99 ms", value: (r) => r.p99, align: "right" },
        { header: "light envs p99 ms", value: (r) => r.lightP99, align: "right" },
        { header: "errors", value: (r) => r.non2xx, align: "right" },
        { header: "all durable (s)", value: (r) => r.durableS, align: "right" },
        { header: "peak buffered", value: (r) => r.peakBuffered, align: "right" },
        { header: "Redis peak MB", value: (r) => r.redisPeakMb, align: "right" },
        { header: "PG active peak", value: (r) => r.pgActivePeak, align: "right" },
        { header: "webapp CPU %", value: (r) => r.webappCpu, align: "right" },
        { header: "PG CPU %", value: (r) => r.pgCpu, align: "right" },
      ],
      rows
    )
  );
  console.log(`\nchart: ${on.chart}\n       ${off.chart}`);
  return { on, off };
}

async function main() {
  if (!existsSync(path.join(appDir, "build/server/index.js"))) {
    execFileSync(path.join(appDir, "node_modules/.bin/remix"), ["vite:build"], { cwd: appDir, stdio: "inherit" });
  }
  const admin = new Redis(TEST_REDIS_URL);
  const aof = await admin.config("GET", "appendonly").catch(() => ["appendonly", "unknown"]);
  admin.disconnect();
  console.log(`Redis appendonly=${(aof as string[])[1]} (anchors rule 1 asks for everysec; the shared Redis is left as configured)`);
  const results: Record<string, unknown> = {};
  if (ONLY !== "b2") results.b1 = await b1();
  if (ONLY !== "b1") {
    const { on, off } = await b2();
    results.b2 = { on: { row: on.row, step: on.step, progress: on.points, cpu: on.cpuReport }, off: { row: off.row, step: off.step, progress: off.points, cpu: off.cpuReport } };
  }
  console.log(`results: ${writeResultsJson("burst", results)}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
