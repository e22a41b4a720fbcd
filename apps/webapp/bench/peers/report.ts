/** The `pnpm bench:peers` report: one row per path of the issue's goal table, the markdown file and the bar chart. */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { formatTable, writeBarChart, type Bar, type LoadResult, type OpsLoopResult } from "@runplane/bench-kit";
import type { DrainResult, StartLatencyResult } from "@runplane/bench-kit/peers";
import type { EngineResult } from "./engine";
import type { BufferDrainResult, ExecutionResult, RunplaneLatencyResult } from "./runplane";

export type PeerResults = {
  accept: { floor?: LoadResult; off?: LoadResult; on?: LoadResult; graphile?: OpsLoopResult; bullmq?: OpsLoopResult };
  bufferDrain?: BufferDrainResult;
  execution: { runplane?: ExecutionResult; graphile?: DrainResult; bullmq?: DrainResult };
  engine?: EngineResult;
  latency: { rate: number; runplane?: RunplaneLatencyResult; graphile?: StartLatencyResult; bullmq?: StartLatencyResult }[];
  /** Average CPU (per-core %, 200 % = both cores) during the trigger acceptance arms; `machine` is the whole box, other load included. */
  cpu: { label: string; server?: number; loadgen?: number; postgres?: number; redis?: number; machine: number }[];
  /** Arms that failed, with their error (the rest of the run still reports). */
  failures: { arm: string; error: string }[];
};

export type Row = {
  path: string;
  runplane: string;
  graphile: string;
  bullmq: string;
  floor: string;
  vsGraphile: string;
  vsBullmq: string;
  vsFloor: string;
  goal: string;
  met: string;
  /** The ratio the goal is about (for the chart), with its target. */
  chart?: { label: string; ratio: number; goal?: number };
};

const perSec = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? "–" : `${v >= 100 ? Math.round(v).toLocaleString("en-US") : v.toFixed(1)}/s`);
const ms = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? "–" : v >= 1000 ? `${(v / 1000).toFixed(1)} s` : `${v >= 10 ? v.toFixed(0) : v.toFixed(1)} ms`);
const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || !(b > 0) || !Number.isFinite(a) ? undefined : a / b);
const showRatio = (r: number | undefined) => (r === undefined ? "–" : `${r >= 10 ? r.toFixed(0) : r >= 1 ? r.toFixed(2) : r.toPrecision(2)}×`);
const met = (ok: boolean | undefined) => (ok === undefined ? "–" : ok ? "yes" : "no");

export function buildRows(r: PeerResults): Row[] {
  const rows: Row[] = [];
  const { accept } = r;
  const gAdd = accept.graphile?.perSec;
  const bAdd = accept.bullmq?.perSec;

  const off = accept.off?.acceptedPerSec;
  const offVsG = ratio(off, gAdd);
  rows.push({
    path: "HTTP trigger, mollifier off (closed loop)",
    runplane: accept.off ? `${perSec(off)}, p99 ${ms(accept.off.latency.p99)}` : "–",
    graphile: accept.graphile ? `addJob ${perSec(gAdd)}, p99 ${ms(accept.graphile.latency.p99)}` : "–",
    bullmq: accept.bullmq ? `add ${perSec(bAdd)}, p99 ${ms(accept.bullmq.latency.p99)}` : "–",
    floor: accept.floor ? `${perSec(accept.floor.acceptedPerSec)}, p99 ${ms(accept.floor.latency.p99)}` : "–",
    vsGraphile: showRatio(offVsG),
    vsBullmq: showRatio(ratio(off, bAdd)),
    vsFloor: showRatio(ratio(off, accept.floor?.acceptedPerSec)),
    goal: "≥ 2× graphile addJob",
    met: met(offVsG === undefined ? undefined : offVsG >= 2),
    chart: offVsG === undefined ? undefined : { label: "trigger, mollifier off / graphile addJob", ratio: offVsG, goal: 2 },
  });

  const on = accept.on?.acceptedPerSec;
  const onVsFloor = ratio(on, accept.floor?.acceptedPerSec);
  rows.push({
    path: "HTTP trigger, mollifier forced on, drainer running",
    runplane: accept.on ? `${perSec(on)}, p99 ${ms(accept.on.latency.p99)}` : "–",
    graphile: "–",
    bullmq: "–",
    floor: accept.floor ? perSec(accept.floor.acceptedPerSec) : "–",
    vsGraphile: showRatio(ratio(on, gAdd)),
    vsBullmq: showRatio(ratio(on, bAdd)),
    vsFloor: showRatio(onVsFloor),
    goal: "≥ 0.5× floor",
    met: met(onVsFloor === undefined ? undefined : onVsFloor >= 0.5),
    chart: onVsFloor === undefined ? undefined : { label: "trigger, mollifier on / floor server", ratio: onVsFloor, goal: 0.5 },
  });

  const drain = r.bufferDrain;
  const drainVsG = ratio(drain?.perSec, gAdd);
  rows.push({
    path: "Drain, buffered → durable rows",
    runplane: drain ? `${perSec(drain.perSec)}${drain.timedOut ? ` (timed out: ${drain.durable}/${drain.buffered} durable)` : ""}` : "–",
    graphile: accept.graphile ? `addJob ${perSec(gAdd)}` : "–",
    bullmq: "–",
    floor: "–",
    vsGraphile: showRatio(drainVsG),
    vsBullmq: "–",
    vsFloor: "–",
    goal: "≥ 3× graphile addJob",
    met: met(drainVsG === undefined ? undefined : drainVsG >= 3),
    chart: drainVsG === undefined ? undefined : { label: "drain / graphile addJob", ratio: drainVsG, goal: 3 },
  });

  const eng = r.engine;
  rows.push({
    path: "Engine trigger, no HTTP",
    runplane: eng ? `${perSec(eng.trigger.perSecond)}, p99 ${ms(eng.trigger.p99ms)}` : "–",
    graphile: accept.graphile ? `addJob ${perSec(gAdd)}` : "–",
    bullmq: accept.bullmq ? `add ${perSec(bAdd)}` : "–",
    floor: "–",
    vsGraphile: showRatio(ratio(eng?.trigger.perSecond, gAdd)),
    vsBullmq: showRatio(ratio(eng?.trigger.perSecond, bAdd)),
    vsFloor: "–",
    goal: "–",
    met: "–",
  });

  const gDrain = r.execution.graphile?.perSec;
  const bDrain = r.execution.bullmq?.perSec;
  const engVsG = ratio(eng?.execute.perSecond, gDrain);
  rows.push({
    path: "Engine execution, no HTTP (dequeue → start → complete)",
    runplane: eng ? perSec(eng.execute.perSecond) : "–",
    graphile: r.execution.graphile ? `no-op drain ${perSec(gDrain)}` : "–",
    bullmq: r.execution.bullmq ? `no-op drain ${perSec(bDrain)}` : "–",
    floor: "–",
    vsGraphile: showRatio(engVsG),
    vsBullmq: showRatio(ratio(eng?.execute.perSecond, bDrain)),
    vsFloor: "–",
    goal: "≥ 1.5× graphile drain",
    met: met(engVsG === undefined ? undefined : engVsG >= 1.5),
    chart: engVsG === undefined ? undefined : { label: "engine execution / graphile drain", ratio: engVsG, goal: 1.5 },
  });

  const e2e = r.execution.runplane;
  const e2eVsG = ratio(e2e?.perSec, gDrain);
  rows.push({
    path: "End to end: HTTP trigger → runplane-worker (no-op) → COMPLETED",
    runplane: e2e ? `${perSec(e2e.perSec)}${e2e.timedOut ? ` (${e2e.completed}/${e2e.runs} done when the time ran out)` : ""}` : "–",
    graphile: r.execution.graphile ? `no-op drain ${perSec(gDrain)}` : "–",
    bullmq: r.execution.bullmq ? `no-op drain ${perSec(bDrain)}` : "–",
    floor: "–",
    vsGraphile: showRatio(e2eVsG),
    vsBullmq: showRatio(ratio(e2e?.perSec, bDrain)),
    vsFloor: "–",
    goal: "≥ 1.0× graphile drain",
    met: met(e2eVsG === undefined ? undefined : e2eVsG >= 1),
    chart: e2eVsG === undefined ? undefined : { label: "end to end / graphile drain", ratio: e2eVsG, goal: 1 },
  });

  for (const l of r.latency) {
    const rp = l.runplane;
    const bound = rp?.lowerBound ? "≥ " : "";
    const backlog = rp ? `; backlog ${rp.backlogAtWindowEnd.toLocaleString("en-US")} at window end${rp.backlogAtEnd > 0 ? `, ${rp.backlogAtEnd.toLocaleString("en-US")} never started` : ""}` : "";
    const peer = (p: StartLatencyResult | undefined) =>
      p
        ? `p50 ${p.lowerBound ? "≥ " : ""}${ms(p.latency.p50)}, p99 ${p.lowerBound ? "≥ " : ""}${ms(p.latency.p99)}${p.backlogAtEnd > 0 ? `; ${p.backlogAtEnd} never started${p.notSent > 0 ? ` (${p.notSent} never added)` : ""}` : ""}`
        : "–";
    const goal = l.rate <= 200 ? { p50: 5, p99: 25, text: "p99 ≤ 25 ms, p50 ≤ 5 ms" } : { p50: Infinity, p99: 100, text: "p99 ≤ 100 ms, no backlog growth" };
    const ok = rp ? !rp.lowerBound && rp.latency.p99 <= goal.p99 && rp.latency.p50 <= goal.p50 && (l.rate <= 200 || rp.backlogAtEnd === 0) : undefined;
    rows.push({
      path: `Trigger → start, open loop at ${l.rate}/s (ratio: p99 ÷ peer p99, lower is better)`,
      runplane: rp
        ? `p50 ${bound}${ms(rp.latency.p50)}, p99 ${bound}${ms(rp.latency.p99)}${backlog}; HTTP ${perSec(rp.http.acceptedPerSec)} accepted, p99 ${ms(rp.http.latency.p99)}`
        : "–",
      graphile: peer(l.graphile),
      bullmq: peer(l.bullmq),
      floor: "–",
      vsGraphile: showRatio(ratio(rp?.latency.p99, l.graphile?.latency.p99)),
      vsBullmq: showRatio(ratio(rp?.latency.p99, l.bullmq?.latency.p99)),
      vsFloor: "–",
      goal: goal.text,
      met: met(ok),
    });
  }
  return rows;
}

const COLUMNS: { header: string; key: keyof Omit<Row, "chart"> }[] = [
  { header: "path", key: "path" },
  { header: "Runplane", key: "runplane" },
  { header: "graphile-worker", key: "graphile" },
  { header: "BullMQ", key: "bullmq" },
  { header: "floor", key: "floor" },
  { header: "÷ graphile", key: "vsGraphile" },
  { header: "÷ BullMQ", key: "vsBullmq" },
  { header: "÷ floor", key: "vsFloor" },
  { header: "goal", key: "goal" },
  { header: "met", key: "met" },
];

export function formatRowsForTerminal(rows: Row[]): string {
  return formatTable(
    COLUMNS.map((c) => ({ header: c.header, value: (r: Row) => r[c.key], align: "left" as const })),
    rows
  );
}

export function markdownTable(rows: Row[]): string {
  const escape = (s: string) => s.replace(/\|/g, "\\|");
  return [
    `| ${COLUMNS.map((c) => c.header).join(" | ")} |`,
    `|${COLUMNS.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${COLUMNS.map((c) => escape(r[c.key])).join(" | ")} |`),
  ].join("\n");
}

export function writeChart(file: string, rows: Row[], subtitle: string): string {
  const bars: Bar[] = rows
    .filter((r) => r.chart)
    .map((r) => ({ label: r.chart!.label, value: r.chart!.ratio, goal: r.chart!.goal, color: r.chart!.goal !== undefined && r.chart!.ratio >= r.chart!.goal ? "#2a9d3c" : "#d8342c" }));
  return writeBarChart(file, {
    title: `Runplane vs peers, same run (${subtitle})`,
    xLabel: "ratio (Runplane / reference); dotted ticks = goal",
    reference: { value: 1, label: "1x" },
    bars,
  });
}

export function cpuMarkdown(cpu: PeerResults["cpu"]): string {
  const pct = (v: number | undefined) => (v === undefined ? "–" : `${v.toFixed(0)} %`);
  return [
    "| trigger acceptance arm | server | bench process (load + library) | postgres (all) | redis | whole machine |",
    "|---|---|---|---|---|---|",
    ...cpu.map((c) => `| ${c.label} | ${pct(c.server)} | ${pct(c.loadgen)} | ${pct(c.postgres)} | ${pct(c.redis)} | ${pct(c.machine)} |`),
  ].join("\n");
}

export function writeMarkdown(
  file: string,
  parts: { rows: Row[]; cpu: PeerResults["cpu"]; meta: Record<string, string>; knobs: Record<string, string | number>; notes: string[]; failures: PeerResults["failures"]; chart: string }
): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const lines = [
    "# `pnpm bench:peers`: Runplane beside graphile-worker and BullMQ",
    "",
    ...Object.entries(parts.meta).map(([k, v]) => `- **${k}:** ${v}`),
    "",
    markdownTable(parts.rows),
    "",
    `![ratios](${path.basename(parts.chart)})`,
    "",
    "## CPU during trigger acceptance",
    "",
    "Per-core averages over each closed loop (200 % = both cores). `postgres` counts every Postgres process on the machine and `whole machine` everything running, other users included: a large gap between it and the rest means the run shared the cores.",
    "",
    cpuMarkdown(parts.cpu),
    "",
    "## How each number is measured",
    "",
    ...parts.notes.map((n) => `- ${n}`),
    "",
    "## Knobs",
    "",
    ...Object.entries(parts.knobs).map(([k, v]) => `- \`${k}\` = ${v}`),
    "",
  ];
  if (parts.failures.length > 0) {
    lines.push("## Arms that failed", "", ...parts.failures.map((f) => `- ${f.arm}: ${f.error.split("\n")[0]}`), "");
  }
  writeFileSync(file, lines.join("\n"));
}
