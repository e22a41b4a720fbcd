/**
 * `pnpm bench:api` — B1: trigger acceptance over HTTP.
 *
 * A real production server (fresh databases, its own Redis prefix; mollifier off) takes
 * `POST /api/v1/tasks/bench/trigger` with a 1 KB JSON body from 50 keep-alive connections:
 * a closed loop finds the maximum, then open loops run at fractions of it (latency from the intended
 * send time). Every accepted trigger is a run row + snapshot + queue entry (no worker runs them).
 *
 * Arms (BENCH_ARMS, comma-separated; default "limiter-off,limiter-on"):
 *   limiter-off   API_RATE_LIMIT_ENABLED=false
 *   limiter-on    the per-environment token bucket on, with a bucket too large to refuse anything
 *                 (measures the limiter's cost per request)
 * Knobs: BENCH_WARMUP_MS (3000), BENCH_CLOSED_MS (10000), BENCH_OPEN_MS (10000),
 * BENCH_FRACTIONS (0.5,0.75), BENCH_CONNECTIONS (50), BENCH_SPLIT=1 (split mode), BENCH_POOL (20).
 */
import {
  CpuSampler,
  cpuPerRequest,
  formatLoadTable,
  formatTable,
  jsonOfSize,
  ratesFromMax,
  runClosedLoop,
  runOpenLoop,
  standardGroups,
  writeResultsJson,
  type CpuReport,
  type LoadResult,
  type RequestFactory,
} from "@runplane/bench-kit";
import { buildServer, startTestServer, type TestServer } from "../test/support/serverProcess";

const num = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
const WARMUP_MS = num("BENCH_WARMUP_MS", 3_000);
const CLOSED_MS = num("BENCH_CLOSED_MS", 10_000);
const OPEN_MS = num("BENCH_OPEN_MS", 10_000);
const CONNECTIONS = num("BENCH_CONNECTIONS", 50);
const FRACTIONS = (process.env.BENCH_FRACTIONS ?? "0.5,0.75").split(",").map(Number);
const SPLIT = process.env.BENCH_SPLIT === "1";
const ARMS = (process.env.BENCH_ARMS ?? "limiter-off,limiter-on").split(",").map((a) => a.trim());

const ARM_ENV: Record<string, Record<string, string>> = {
  "limiter-off": { API_RATE_LIMIT_ENABLED: "false" },
  "limiter-on": { API_RATE_LIMIT_ENABLED: "true", API_RATE_LIMIT_BUCKET_SIZE: "1000000000", API_RATE_LIMIT_REFILL_RATE: "1000000000" },
};

type ArmResult = { arm: string; closed: LoadResult; open: { rate: number; result: LoadResult }[]; cpu: CpuReport; runs: number };

function triggerRequests(key: string): RequestFactory {
  return (i) => ({
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: jsonOfSize(1024, { payload: { i, at: Date.now() }, options: { tags: ["bench"] } }),
  });
}

async function countRuns(server: TestServer): Promise<number> {
  const { default: pg } = await import("pg");
  let total = 0;
  for (const url of [server.databaseUrl, server.runOpsDatabaseUrl].filter(Boolean) as string[]) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    total += Number((await client.query<{ n: string }>('SELECT count(*)::text AS n FROM "TaskRun"')).rows[0]!.n);
    await client.end();
  }
  return total;
}

async function runArm(arm: string): Promise<ArmResult> {
  const env = ARM_ENV[arm];
  if (!env) throw new Error(`unknown arm ${arm}; known: ${Object.keys(ARM_ENV).join(", ")}`);
  const server = await startTestServer({
    split: SPLIT,
    env: { ...env, MOLLIFIER_ENABLED: "false", DATABASE_POOL_SIZE: String(num("BENCH_POOL", 20)), LOG_LEVEL: "error" },
  });
  try {
    const url = `${server.baseUrl}/api/v1/tasks/bench/trigger`;
    const request = triggerRequests(server.prodSecretKey);
    const cpu = new CpuSampler({ groups: standardGroups({ webappPid: server.pid() }), intervalMs: 500 }).start();
    process.stdout.write(`[${arm}] closed loop: ${CONNECTIONS} connections, ${WARMUP_MS} ms warm-up, ${CLOSED_MS} ms measured… `);
    const closed = await runClosedLoop({ url, request, connections: CONNECTIONS, warmupMs: WARMUP_MS, durationMs: CLOSED_MS });
    console.log(`${closed.acceptedPerSec.toFixed(0)}/s`);
    const cpuClosed = cpu.report(Date.parse(closed.startedAt), Date.parse(closed.startedAt) + closed.elapsedMs);
    const open: ArmResult["open"] = [];
    for (const rate of ratesFromMax(closed.acceptedPerSec, FRACTIONS)) {
      process.stdout.write(`[${arm}] open loop at ${rate}/s for ${OPEN_MS} ms… `);
      const result = await runOpenLoop({ url, request, rate, connections: CONNECTIONS, durationMs: OPEN_MS, warmupMs: 1_000 });
      console.log(`p99 ${result.latency.p99.toFixed(1)} ms`);
      open.push({ rate, result });
    }
    cpu.stop();
    return { arm, closed, open, cpu: cpuClosed, runs: await countRuns(server) };
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  console.log("building the production server…");
  buildServer();
  const results: ArmResult[] = [];
  for (const arm of ARMS) results.push(await runArm(arm));

  console.log(`\nB1 trigger acceptance (POST /api/v1/tasks/{id}/trigger, 1 KB JSON, mollifier off, ${SPLIT ? "split" : "single"} database)`);
  console.log(
    formatLoadTable(
      results.flatMap((r) => [
        { label: `${r.arm}: closed, ${CONNECTIONS} conns`, runs: [r.closed] },
        ...r.open.map((o) => ({ label: `${r.arm}: open @ ${o.rate}/s`, runs: [o.result] })),
      ])
    )
  );
  console.log("\nCPU during the closed loop (per-core %, 200 % = both cores)");
  console.log(
    formatTable(
      [
        { header: "arm", value: (r: ArmResult) => r.arm, align: "left" },
        { header: "webapp %", value: (r) => r.cpu.groups.webapp?.avgPercent ?? "-", align: "right" },
        { header: "postgres %", value: (r) => r.cpu.groups.postgres?.avgPercent ?? "-", align: "right" },
        { header: "redis %", value: (r) => r.cpu.groups.redis?.avgPercent ?? "-", align: "right" },
        { header: "loadgen %", value: (r) => r.cpu.groups.loadgen?.avgPercent ?? "-", align: "right" },
        { header: "on-CPU ms/trigger", value: (r) => cpuPerRequest(r.cpu, r.closed.ok).total, digits: 3 },
        { header: "of which webapp", value: (r) => cpuPerRequest(r.cpu, r.closed.ok).webapp ?? 0, digits: 3 },
        { header: "run rows", value: (r) => r.runs, align: "right" },
      ],
      results
    )
  );
  const file = writeResultsJson("api-b1", { connections: CONNECTIONS, split: SPLIT, results });
  console.log(`\nresults: ${file}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
