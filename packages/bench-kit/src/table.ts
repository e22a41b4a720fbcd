/** Aligned text tables, median-and-range over K runs, and the JSON writer for bench-results/. */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, hostname, totalmem } from "node:os";
import { isAbsolute, join } from "node:path";
import type { LoadResult } from "./load/types.js";

export interface Column<Row> {
  header: string;
  /** Cell text (numbers are formatted with `digits`). */
  value: (row: Row) => string | number | undefined;
  /** Default: right for numbers, left for text. */
  align?: "left" | "right";
  /** Decimals for numeric cells (default: 0 for ≥ 100, 1 for ≥ 10, else 2). */
  digits?: number;
}

export function formatNumber(v: number, digits?: number): string {
  if (!Number.isFinite(v)) return String(v);
  const d = digits ?? (Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2);
  return v.toFixed(d);
}

/** Render rows as an aligned table with a header rule. */
export function formatTable<Row>(columns: Column<Row>[], rows: Row[]): string {
  const cells = rows.map((row) =>
    columns.map((c) => {
      const v = c.value(row);
      if (v === undefined) return { text: "–", numeric: false };
      if (typeof v === "number") return { text: formatNumber(v, c.digits), numeric: true };
      return { text: v, numeric: /^[-+]?[\d.,]+/.test(v) };
    }),
  );
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i].text.length)));
  const alignOf = (i: number, numeric: boolean) => columns[i].align ?? (numeric ? "right" : "left");
  const pad = (s: string, w: number, a: "left" | "right") => (a === "right" ? s.padStart(w) : s.padEnd(w));
  const headerAlign = (i: number) => columns[i].align ?? (cells.length && cells.every((r) => r[i].numeric) ? "right" : "left");
  const lines = [
    columns.map((c, i) => pad(c.header, widths[i], headerAlign(i))).join("  "),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...cells.map((r) => r.map((cell, i) => pad(cell.text, widths[i], alignOf(i, cell.numeric))).join("  ")),
  ];
  return lines.map((l) => l.trimEnd()).join("\n");
}

export interface Stat {
  n: number;
  median: number;
  min: number;
  max: number;
}

/** Median and range of K measured runs. */
export function summarize(values: number[]): Stat {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return { n: 0, median: Number.NaN, min: Number.NaN, max: Number.NaN };
  const mid = Math.floor(v.length / 2);
  const median = v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  return { n: v.length, median, min: v[0], max: v[v.length - 1] };
}

/** "10234 (9980–10400)"; just the value when there is one run. */
export function formatStat(s: Stat, digits?: number): string {
  if (s.n === 0) return "–";
  const f = (x: number) => formatNumber(x, digits);
  return s.n === 1 ? f(s.median) : `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}

export interface LoadStats {
  runs: number;
  acceptedPerSec: Stat;
  p50: Stat;
  p90: Stat;
  p99: Stat;
  p999: Stat;
  max: Stat;
  /** Percent. */
  errorPercent: Stat;
  /** Open loop: p99 of how late requests left the generator (ms); high = the generator lagged. */
  sendLagP99: Stat;
}

/** Median and range of the headline numbers over K runs of the same arm. */
export function aggregateLoad(results: LoadResult[]): LoadStats {
  const pick = (f: (r: LoadResult) => number) => summarize(results.map(f));
  return {
    runs: results.length,
    acceptedPerSec: pick((r) => r.acceptedPerSec),
    p50: pick((r) => r.latency.p50),
    p90: pick((r) => r.latency.p90),
    p99: pick((r) => r.latency.p99),
    p999: pick((r) => r.latency.p999),
    max: pick((r) => r.latency.max),
    errorPercent: pick((r) => r.errorRate * 100),
    sendLagP99: summarize(results.filter((r) => r.sendLag).map((r) => r.sendLag!.p99)),
  };
}

/**
 * The standard results table: one row per arm (e.g. "mollifier off @ closed", "on @ 50 %"), each
 * cell the median and range over that arm's runs. "send lag p99" (open loop) tells whether the
 * generator itself kept the schedule: if it is close to p99 latency, the load generator (or a
 * busy box), not the server, is the bottleneck.
 */
export function formatLoadTable(arms: { label: string; runs: LoadResult[] }[]): string {
  const rows = arms.map((a) => ({ label: a.label, s: aggregateLoad(a.runs) }));
  return formatTable(
    [
      { header: "arm", value: (r) => r.label, align: "left" },
      { header: "runs", value: (r) => r.s.runs, digits: 0 },
      { header: "accepted/s", value: (r) => formatStat(r.s.acceptedPerSec, 0), align: "right" },
      { header: "p50 ms", value: (r) => formatStat(r.s.p50, 2), align: "right" },
      { header: "p99 ms", value: (r) => formatStat(r.s.p99, 2), align: "right" },
      { header: "p99.9 ms", value: (r) => formatStat(r.s.p999, 2), align: "right" },
      { header: "max ms", value: (r) => formatStat(r.s.max, 1), align: "right" },
      { header: "errors %", value: (r) => formatStat(r.s.errorPercent, 2), align: "right" },
      { header: "send lag p99", value: (r) => formatStat(r.s.sendLagP99, 1), align: "right" },
    ],
    rows,
  );
}

function gitInfo(): { root?: string; commit?: string; dirty?: boolean } {
  try {
    const root = execFileSync("git", ["rev-parse", "--show-toplevel"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    const commit = execFileSync("git", ["rev-parse", "HEAD"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    const status = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    return { root, commit, dirty: status.trim().length > 0 };
  } catch {
    return {};
  }
}

export interface ResultsMeta {
  name: string;
  createdAt: string;
  commit?: string;
  dirty?: boolean;
  node: string;
  host: string;
  cpus: number;
  cpuModel?: string;
  memGiB: number;
}

/**
 * Write `{ meta, data }` to `<dir>/<name>-<timestamp>.json`. `dir` defaults to `bench-results/` at
 * the git top level (gitignored), else under the current directory. Returns the path.
 */
export function writeResultsJson(name: string, data: unknown, dir?: string): string {
  const git = gitInfo();
  const base = dir === undefined ? join(git.root ?? process.cwd(), "bench-results") : isAbsolute(dir) ? dir : join(process.cwd(), dir);
  mkdirSync(base, { recursive: true });
  const now = new Date();
  const meta: ResultsMeta = {
    name,
    createdAt: now.toISOString(),
    commit: git.commit,
    dirty: git.dirty,
    node: process.version,
    host: hostname(),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
  };
  const stamp = now.toISOString().replace(/[:.]/g, "-");
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, "_");
  const path = join(base, `${safe}-${stamp}.json`);
  writeFileSync(path, JSON.stringify({ meta, data }, null, 2) + "\n");
  return path;
}
