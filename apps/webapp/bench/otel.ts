/**
 * `pnpm bench:otel` — OTLP log ingest: how many log records per second the receiver stores, and the
 * p99 latency of one export request, on a real production server (fresh databases).
 *
 * N keep-alive connections post `POST /otel/v1/logs` export requests of BENCH_RECORDS records each
 * (one run named by the resource) in a closed loop; each answer means the records are committed
 * (one multi-row insert per flush). Then an open loop at 75 % of that rate gives the latency under a
 * steady load. Finally, when Chromium is installed, the run page of a run with 10,000 log lines is
 * opened and the time until its first page of log lines shows is measured.
 *
 * Arms (BENCH_ARMS; default "json,protobuf"). Knobs: BENCH_CONNECTIONS (16), BENCH_RECORDS (1000),
 * BENCH_WARMUP_MS (2000), BENCH_CLOSED_MS (10000), BENCH_OPEN_MS (10000), BENCH_SPLIT=1.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { formatLoadTable, formatTable, runClosedLoop, runOpenLoop, writeResultsJson, type LoadResult, type RequestFactory } from "@runplane/bench-kit";
import { buildServer, startTestServer, type TestServer } from "../test/support/serverProcess";

const num = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
const CONNECTIONS = num("BENCH_CONNECTIONS", 16);
const RECORDS = num("BENCH_RECORDS", 1000);
const WARMUP_MS = num("BENCH_WARMUP_MS", 2_000);
const CLOSED_MS = num("BENCH_CLOSED_MS", 10_000);
const OPEN_MS = num("BENCH_OPEN_MS", 10_000);
const SPLIT = process.env.BENCH_SPLIT === "1";
const ARMS = (process.env.BENCH_ARMS ?? "json,protobuf").split(",").map((a) => a.trim());
const CHROMIUM = "/usr/bin/chromium";

const proto = createRequire(import.meta.url)("@opentelemetry/otlp-transformer/build/src/generated/root.js").opentelemetry.proto.collector;

function exportRequest(runId: string, i: number) {
  const base = BigInt(Date.now()) * 1_000_000n;
  return {
    resourceLogs: [
      {
        resource: { attributes: [{ key: "ctx.run.id", value: { stringValue: runId } }, { key: "service.name", value: { stringValue: "bench" } }] },
        scopeLogs: [
          {
            logRecords: Array.from({ length: RECORDS }, (_, j) => ({
              timeUnixNano: String(base + BigInt(j)),
              severityNumber: 9,
              severityText: "INFO",
              body: { stringValue: `request ${i} line ${j}: processed an item of the batch` },
              attributes: [{ key: "item", value: { intValue: String(j) } }],
            })),
          },
        ],
      },
    ],
  };
}

/** A few bodies encoded up front and sent in turn, so the load generator's CPU goes to sending, not encoding. */
const DISTINCT_BODIES = 32;

function requests(arm: string, key: string, runId: string): RequestFactory {
  const Request = proto.logs.v1.ExportLogsServiceRequest;
  const encode = (i: number): string | Uint8Array =>
    arm === "protobuf" ? (Request.encode(Request.fromObject(exportRequest(runId, i))).finish() as Uint8Array) : JSON.stringify(exportRequest(runId, i));
  const bodies = Array.from({ length: DISTINCT_BODIES }, (_, i) => encode(i));
  const headers = { authorization: `Bearer ${key}`, "content-type": arm === "protobuf" ? "application/x-protobuf" : "application/json" };
  return (i) => ({ method: "POST", headers, body: bodies[i % DISTINCT_BODIES]! });
}

async function trigger(server: TestServer, taskId: string): Promise<string> {
  const res = await fetch(`${server.baseUrl}/api/v1/tasks/${taskId}/trigger`, {
    method: "POST",
    headers: { authorization: `Bearer ${server.devSecretKey}`, "content-type": "application/json" },
    body: JSON.stringify({ payload: {} }),
  });
  return ((await res.json()) as { id: string }).id;
}

async function countLogs(server: TestServer): Promise<number> {
  const { default: pg } = await import("pg");
  let total = 0;
  for (const url of [server.databaseUrl, server.runOpsDatabaseUrl].filter(Boolean) as string[]) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    total += Number((await client.query<{ n: string }>('SELECT count(*)::text AS n FROM "RunLog"')).rows[0]!.n);
    await client.end();
  }
  return total;
}

type ArmResult = { arm: string; closed: LoadResult; open: LoadResult; openRate: number; stored: number };

async function runArm(server: TestServer, arm: string): Promise<ArmResult> {
  const runId = await trigger(server, `otel-bench-${arm}`);
  const url = `${server.baseUrl}/otel/v1/logs`;
  const request = requests(arm, server.devSecretKey, runId);
  process.stdout.write(`[${arm}] closed loop: ${CONNECTIONS} connections × ${RECORDS} records/request… `);
  const closed = await runClosedLoop({ url, request, connections: CONNECTIONS, warmupMs: WARMUP_MS, durationMs: CLOSED_MS });
  console.log(`${(closed.acceptedPerSec * RECORDS).toFixed(0)} records/s, p99 ${closed.latency.p99.toFixed(1)} ms`);
  const openRate = Math.max(1, Math.floor(closed.acceptedPerSec * 0.75));
  process.stdout.write(`[${arm}] open loop at ${openRate} requests/s (${openRate * RECORDS} records/s)… `);
  const open = await runOpenLoop({ url, request, rate: openRate, connections: CONNECTIONS * 2, durationMs: OPEN_MS, warmupMs: 1_000 });
  console.log(`p99 ${open.latency.p99.toFixed(1)} ms`);
  return { arm, closed, open, openRate, stored: await countLogs(server) };
}

/** Time from navigation until the first page of a 10,000-line run's log lines is on screen. */
async function measurePageRender(server: TestServer): Promise<number[] | null> {
  if (!existsSync(CHROMIUM)) return null;
  const { chromium } = await import("playwright-core");
  const runId = await trigger(server, "otel-bench-page");
  for (let i = 0; i < 10_000; i += 1_000) {
    const body = exportRequest(runId, i);
    body.resourceLogs[0]!.scopeLogs[0]!.logRecords = body.resourceLogs[0]!.scopeLogs[0]!.logRecords.slice(0, 1_000);
    await fetch(`${server.baseUrl}/otel/v1/logs`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.devSecretKey}`, "content-type": "application/json" },
      body: JSON.stringify({ resourceLogs: [{ ...body.resourceLogs[0], scopeLogs: [{ logRecords: Array.from({ length: 1_000 }, (_, j) => ({ timeUnixNano: String((BigInt(Date.now()) + BigInt(i + j)) * 1_000_000n), severityNumber: 9, body: { stringValue: `line ${i + j}` } })) }] }] }),
    });
  }
  const { loginAs } = await import("../test/dashboard/helpers");
  const { cookie } = await loginAs(server, "admin@localhost");
  const [name, value] = cookie.split("=") as [string, string];
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--headless", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  try {
    const context = await browser.newContext();
    await context.addCookies([{ name, value, url: server.baseUrl }]);
    const page = await context.newPage();
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = Date.now();
      await page.goto(`${server.baseUrl}/orgs/default/projects/default/env/dev/runs/${runId}`);
      await page.getByTestId("run-logs").locator("tr").nth(199).waitFor();
      times.push(Date.now() - started);
    }
    return times;
  } finally {
    await browser.close();
  }
}

async function main(): Promise<void> {
  console.log("building the production server…");
  buildServer();
  const server = await startTestServer({ split: SPLIT, env: { LOG_LEVEL: "error", API_RATE_LIMIT_ENABLED: "false", MOLLIFIER_ENABLED: "false" } });
  const results: ArmResult[] = [];
  let render: number[] | null = null;
  try {
    for (const arm of ARMS) results.push(await runArm(server, arm));
    render = await measurePageRender(server);
  } finally {
    await server.stop();
  }

  console.log(`\nOTLP log ingest (POST /otel/v1/logs, ${RECORDS} records/request, ${SPLIT ? "split" : "single"} database)`);
  console.log(formatLoadTable(results.flatMap((r) => [{ label: `${r.arm}: closed, ${CONNECTIONS} conns`, runs: [r.closed] }, { label: `${r.arm}: open @ ${r.openRate}/s`, runs: [r.open] }])));
  console.log(
    "\n" +
      formatTable(
        [
          { header: "arm", value: (r: ArmResult) => r.arm, align: "left" },
          { header: "records/s (closed)", value: (r) => Math.round(r.closed.acceptedPerSec * RECORDS), align: "right" },
          { header: "p99 ms/request (closed)", value: (r) => r.closed.latency.p99, digits: 1 },
          { header: "records/s (open)", value: (r) => Math.round(r.open.acceptedPerSec * RECORDS), align: "right" },
          { header: "p99 ms/request (open)", value: (r) => r.open.latency.p99, digits: 1 },
          { header: "rejected", value: (r) => Object.values(r.closed.non2xx).reduce((a, b) => a + b, 0) + Object.values(r.open.non2xx).reduce((a, b) => a + b, 0), align: "right" },
        ],
        results
      )
  );
  console.log(`stored log rows: ${results.at(-1)?.stored ?? 0}`);
  if (render) console.log(`run page with 10,000 log lines, first page shown (ms, 5 loads): ${render.join(", ")}`);
  else console.log("run page render: skipped (no Chromium at /usr/bin/chromium)");
  const file = writeResultsJson("otel-ingest", { connections: CONNECTIONS, recordsPerRequest: RECORDS, split: SPLIT, results, renderMs: render });
  console.log(`\nresults: ${file}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
