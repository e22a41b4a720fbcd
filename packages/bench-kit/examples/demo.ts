/**
 * Demo of the kit on a toy "trigger" server (a child process): B1 (closed loop, then open loop at
 * fractions of the max) and B2 (a burst step, drain progress, CPU, chart). Tiny by default so it
 * can run on a shared box: `pnpm --filter @runplane/bench-kit demo` (DEMO_SCALE=5 for longer runs).
 *
 * The toy server accepts into an in-memory buffer and "drains" it into "rows" at DRAIN_RATE/s,
 * exposing GET /stats → { rows, buffered } for the progress probes (POST /reset empties both).
 */
import { spawn } from "node:child_process";
import { request } from "undici";
import {
  CpuSampler,
  ProgressSampler,
  cpuPerRequest,
  formatLoadTable,
  formatTable,
  jsonOfSize,
  loadSeries,
  ratesFromMax,
  runClosedLoop,
  runOpenLoop,
  standardGroups,
  writeLineChart,
  writeResultsJson,
  type LoadResult,
  type RequestFactory,
} from "../src/index.js";

const SCALE = Number(process.env.DEMO_SCALE ?? 1);
const DRAIN_RATE = 800;

const serverSource = `
const http = require("node:http");
let rows = 0; const buffer = [];
setInterval(() => { const n = Math.min(buffer.length, ${DRAIN_RATE / 20}); buffer.splice(0, n); rows += n; }, 50);
http.createServer((req, res) => {
  if (req.url === "/reset") { buffer.length = 0; rows = 0; res.writeHead(204); return res.end(); }
  if (req.url === "/stats") { res.writeHead(200, { "content-type": "application/json" }); return res.end(JSON.stringify({ rows, buffered: buffer.length })); }
  let body = ""; req.on("data", (c) => (body += c)); req.on("end", () => {
    const j = JSON.parse(body); buffer.push(j.options.idempotencyKey);
    res.writeHead(200, { "content-type": "application/json" }); res.end(JSON.stringify({ id: "run_" + buffer.length }));
  });
}).listen(0, "127.0.0.1", function () { console.log(String(this.address().port)); });
`;

async function main() {
  const server = spawn(process.execPath, ["-e", serverSource], { stdio: ["ignore", "pipe", "inherit"] });
  process.on("exit", () => server.kill());
  const port = await new Promise<number>((resolve, reject) => {
    server.stdout!.once("data", (d: Buffer) => resolve(Number(String(d).trim())));
    server.once("exit", (code) => reject(new Error(`toy server exited (${code})`)));
  });
  const base = `http://127.0.0.1:${port}`;
  const url = `${base}/api/v1/tasks/hello-world/trigger`;

  // 10 envs in 3 orgs; env 0 sends 90 % (anchors.md B2). Each trigger gets a unique key.
  const envs = Array.from({ length: 10 }, (_, e) => ({ key: `tr_dev_env${e}`, tag: `org${e % 3}/env${e}` }));
  const trigger: RequestFactory = (i) => {
    const env = i % 10 < 9 ? envs[0] : envs[1 + (Math.floor(i / 10) % 9)];
    return {
      headers: { authorization: `Bearer ${env.key}` },
      body: jsonOfSize(1024, { payload: { i }, options: { idempotencyKey: `demo-${i}` } }),
      tag: env.tag,
    };
  };

  // ---- B1: closed loop for the max, then open loop at 25/50/75/90 % of it -------------------
  const cpu = new CpuSampler({ groups: [{ name: "webapp", pids: [server.pid!] }, ...standardGroups()] }).start();
  const closed = await runClosedLoop({ url, connections: 50, warmupMs: 500 * SCALE, durationMs: 2000 * SCALE, request: trigger });
  const cpuClosed = cpu.report(Date.parse(closed.startedAt), Date.parse(closed.startedAt) + closed.elapsedMs);
  const open: { label: string; runs: LoadResult[] }[] = [];
  for (const rate of ratesFromMax(closed.acceptedPerSec)) {
    const r = await runOpenLoop({ url, rate, durationMs: 1000 * SCALE, connections: 50, request: trigger });
    open.push({ label: `open @ ${rate}/s`, runs: [r] });
  }
  cpu.stop();
  console.log("\nB1 trigger acceptance");
  console.log(formatLoadTable([{ label: "closed, 50 conns", runs: [closed] }, ...open]));
  console.log("\non-CPU ms per accepted request (closed loop):", cpuPerRequest(cpuClosed, closed.ok));

  // ---- B2: a burst step, drain progress and a chart ---------------------------------------
  const stats = async () => {
    const res = await request(`${base}/stats`);
    return (await res.body.json()) as { rows: number; buffered: number };
  };
  await request(`${base}/reset`, { method: "POST" }).then((r) => r.body.dump());
  const burst = 3000 * SCALE;
  const progress = new ProgressSampler({
    intervalMs: 250,
    probes: { rows: async () => (await stats()).rows, buffered: async () => (await stats()).buffered },
  }).start();
  const cpu2 = new CpuSampler({ groups: [{ name: "webapp", pids: [server.pid!] }, ...standardGroups()] }).start();
  const step = await runOpenLoop({ url, rate: 1500, requests: burst, connections: 50, maxInFlight: 200, request: trigger });
  const durable = await progress.waitFor((v) => v.rows >= step.ok, 60_000);
  const points = await progress.stop();
  const cpuReport = cpu2.stop();
  const origin = points[0].at;
  console.log("\nB2 burst absorption");
  console.log(
    formatTable(
      [
        { header: "metric", value: (r: [string, string | number]) => r[0] },
        { header: "value", value: (r) => r[1], align: "right" },
      ],
      [
        ["triggers sent", step.sent],
        ["accepted %", ((step.ok / step.sent) * 100).toFixed(1)],
        ["HTTP p99 during step (ms)", step.latency.p99.toFixed(1)],
        ["time until all durable (s)", durable ? ((durable.at - Date.parse(step.startedAt)) / 1000).toFixed(1) : "timeout"],
        ["peak buffered", progress.peak("buffered")],
        ["webapp CPU avg %", cpuReport.groups.webapp.avgPercent],
        ["loadgen CPU avg %", cpuReport.groups.loadgen.avgPercent],
      ],
    ),
  );
  const chart = writeLineChart("/tmp/chart-demo.png", {
    title: `burst of ${burst} triggers at 1500/s: accepted vs drained`,
    xLabel: "time (s)",
    yLabel: "per second",
    y2Label: "buffered",
    series: [
      { name: "accepted/s", points: loadSeries(step, "ok", origin) },
      { name: "drained/s", points: progress.rate("rows", { step: true }) },
      { name: "buffered", points: progress.series("buffered"), axis: "right" },
    ],
    markers: [{ x: (Date.parse(step.startedAt) - origin) / 1000 + burst / 1500, label: "step ends" }],
  });
  const json = writeResultsJson("demo", { closed, open, step, progress: points, cpu: cpuReport });
  console.log(`\nchart: ${chart}\nresults: ${json}`);
  server.kill();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
