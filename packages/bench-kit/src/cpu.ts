/**
 * Per-process CPU sampling from /proc (Linux only). Each sample reads utime+stime of every process
 * in every group, re-resolving group members each time (postgres backends come and go). A process
 * first seen after the sampler started, and born after it started, counts its whole CPU time; one
 * that existed before counts from its first sample. CPU a process burns between the last sample
 * and its exit is lost (at most one interval's worth). Per-process percentages are of one core
 * (like `top`: 200 % = both cores of a 2-core box); the machine figure is of all cores.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

export interface ProcessMatch {
  /** Exact name from /proc/<pid>/comm (e.g. "postgres", "redis-server"), or a RegExp on it. */
  comm?: string | RegExp;
  /** Substring of, or RegExp on, the full command line (args joined by spaces). */
  cmdline?: string | RegExp;
}

export interface ProcessGroup {
  name: string;
  /** Fixed pids (e.g. [webapp.pid]). */
  pids?: number[];
  /** Processes matching this, re-resolved at every sample. */
  match?: ProcessMatch;
  /** Also count all descendants of the group's processes (e.g. a webapp with child workers). */
  includeDescendants?: boolean;
}

export interface ProcessStat {
  pid: number;
  ppid: number;
  comm: string;
  /** utime + stime, in clock ticks. */
  ticks: number;
  /** Start time in clock ticks since boot. */
  startTicks: number;
}

let clkTck: number | undefined;
/** Clock ticks per second (getconf CLK_TCK, 100 on virtually every Linux). */
export function clockTicksPerSecond(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** Parse /proc/<pid>/stat; null if the process is gone. */
export function readProcStat(pid: number): ProcessStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // comm is in parentheses and may itself contain spaces or ')': split after the last ')'.
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < 0) return null;
  const comm = text.slice(open + 1, close);
  const rest = text.slice(close + 2).split(" ");
  // rest[0] is field 3 (state); utime = field 14, stime = 15, starttime = 22.
  const ppid = Number(rest[1]);
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  const start = Number(rest[19]);
  return { pid, ppid, comm, ticks: utime + stime, startTicks: start };
}

function listPids(): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    const c = name.charCodeAt(0);
    if (c >= 48 && c <= 57) out.push(Number(name));
  }
  return out;
}

function readComm(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trimEnd();
  } catch {
    return null;
  }
}

function readCmdline(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
  } catch {
    return null;
  }
}

function matches(pid: number, m: ProcessMatch): boolean {
  if (m.comm !== undefined) {
    const comm = readComm(pid);
    if (comm === null) return false;
    if (typeof m.comm === "string" ? comm !== m.comm : !m.comm.test(comm)) return false;
  }
  if (m.cmdline !== undefined) {
    const cmd = readCmdline(pid);
    if (cmd === null) return false;
    if (typeof m.cmdline === "string" ? !cmd.includes(m.cmdline) : !m.cmdline.test(cmd)) return false;
  }
  return m.comm !== undefined || m.cmdline !== undefined;
}

/** Pids whose /proc/<pid>/comm (and/or cmdline) matches, e.g. findPids({ comm: "postgres" }). */
export function findPids(match: ProcessMatch): number[] {
  return listPids().filter((pid) => matches(pid, match));
}

/** All descendants (children, grandchildren …) of `pid`. */
export function descendantsOf(pid: number): number[] {
  return descendantsOfMany([pid]).filter((p) => p !== pid);
}

function descendantsOfMany(roots: number[]): number[] {
  const children = new Map<number, number[]>();
  for (const p of listPids()) {
    const st = readProcStat(p);
    if (!st) continue;
    const list = children.get(st.ppid);
    if (list) list.push(p);
    else children.set(st.ppid, [p]);
  }
  const seen = new Set<number>(roots);
  const queue = [...roots];
  while (queue.length) {
    const p = queue.pop()!;
    for (const c of children.get(p) ?? []) {
      if (!seen.has(c)) {
        seen.add(c);
        queue.push(c);
      }
    }
  }
  return [...seen];
}

function uptimeTicks(): number {
  const up = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);
  return up * clockTicksPerSecond();
}

/** Busy and total jiffies of the whole machine (first line of /proc/stat). */
function machineTicks(): { busy: number; total: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0];
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal guest guest_nice; guest is already in user.
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  const total = v.slice(0, 8).reduce((a, b) => a + (b || 0), 0);
  return { busy: total - idle, total };
}

export interface CpuSample {
  /** Seconds since the sampler started. */
  t: number;
  /** Epoch ms of the sample. */
  at: number;
  /** CPU % of one core per group over the interval ending at this sample. */
  percent: Record<string, number>;
  /** Machine busy % of all cores over the interval. */
  machinePercent: number;
  /** Cumulative on-CPU ms per group since start. */
  cumulativeMs: Record<string, number>;
  /** Live processes per group at this sample. */
  processes: Record<string, number>;
}

export interface CpuGroupReport {
  cpuMs: number;
  avgPercent: number;
  peakPercent: number;
  /** Distinct processes seen. */
  processesSeen: number;
}

export interface CpuReport {
  /** Wall time covered, ms. */
  wallMs: number;
  groups: Record<string, CpuGroupReport>;
  /** Sum over groups. */
  totalCpuMs: number;
  machineAvgPercent: number;
  cores: number;
  samples: CpuSample[];
}

export interface CpuSamplerOptions {
  groups: ProcessGroup[];
  /** Default 500 ms. */
  intervalMs?: number;
  /** Add a "loadgen" group for this process (default true). */
  includeSelf?: boolean;
}

interface Tracked {
  group: string;
  startTicks: number;
  lastTicks: number;
}

export class CpuSampler {
  private readonly groups: ProcessGroup[];
  private readonly intervalMs: number;
  private readonly tck = clockTicksPerSecond();
  private readonly tracked = new Map<number, Tracked>();
  private readonly seen = new Map<string, Set<string>>();
  private readonly cumulative = new Map<string, number>();
  private readonly samples: CpuSample[] = [];
  private timer: NodeJS.Timeout | null = null;
  private startedAt = 0;
  private startUptimeTicks = 0;
  private lastAt = 0;
  private lastMachine = { busy: 0, total: 0 };

  constructor(opts: CpuSamplerOptions) {
    this.groups = [...opts.groups];
    if (opts.includeSelf ?? true) this.groups.push({ name: "loadgen", pids: [process.pid] });
    this.intervalMs = opts.intervalMs ?? 500;
    for (const g of this.groups) {
      this.cumulative.set(g.name, 0);
      this.seen.set(g.name, new Set());
    }
  }

  start(): this {
    if (this.timer) return this;
    this.startedAt = Date.now();
    this.lastAt = this.startedAt;
    this.startUptimeTicks = uptimeTicks();
    this.lastMachine = machineTicks();
    this.scan(true);
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  /** Take a final sample, stop, and report the whole sampled period. */
  stop(): CpuReport {
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = null;
      this.sample();
    }
    return this.report();
  }

  /** Resolve group members now: returns pid → group. First group that claims a pid wins. */
  private resolve(): Map<number, string> {
    const owner = new Map<number, string>();
    let all: number[] | undefined;
    for (const g of this.groups) {
      const roots: number[] = [...(g.pids ?? [])];
      if (g.match) {
        all ??= listPids();
        for (const p of all) if (matches(p, g.match)) roots.push(p);
      }
      const members = g.includeDescendants ? descendantsOfMany(roots) : roots;
      for (const p of members) if (!owner.has(p)) owner.set(p, g.name);
    }
    return owner;
  }

  /** Update per-pid counters; returns ticks burned per group since the previous scan. */
  private scan(baseline: boolean): { delta: Map<string, number>; live: Map<string, number> } {
    const delta = new Map<string, number>();
    const live = new Map<string, number>();
    for (const [pid, group] of this.resolve()) {
      const st = readProcStat(pid);
      if (!st) continue;
      live.set(group, (live.get(group) ?? 0) + 1);
      this.seen.get(group)!.add(`${pid}:${st.startTicks}`);
      const prev = this.tracked.get(pid);
      if (prev && prev.startTicks === st.startTicks && prev.group === group) {
        delta.set(group, (delta.get(group) ?? 0) + Math.max(0, st.ticks - prev.lastTicks));
        prev.lastTicks = st.ticks;
        continue;
      }
      // New process (or pid reused): born during the run → count all of it; else from now.
      const bornDuring = !baseline && st.startTicks >= this.startUptimeTicks;
      if (bornDuring) delta.set(group, (delta.get(group) ?? 0) + st.ticks);
      this.tracked.set(pid, { group, startTicks: st.startTicks, lastTicks: st.ticks });
    }
    return { delta, live };
  }

  private sample(): void {
    const now = Date.now();
    const { delta, live } = this.scan(false);
    const machine = machineTicks();
    const wall = Math.max(1, now - this.lastAt);
    const percent: Record<string, number> = {};
    const cumulativeMs: Record<string, number> = {};
    const processes: Record<string, number> = {};
    for (const g of this.groups) {
      const ms = ((delta.get(g.name) ?? 0) * 1000) / this.tck;
      const cum = (this.cumulative.get(g.name) ?? 0) + ms;
      this.cumulative.set(g.name, cum);
      percent[g.name] = round1((ms / wall) * 100);
      cumulativeMs[g.name] = Math.round(cum);
      processes[g.name] = live.get(g.name) ?? 0;
    }
    const dTotal = machine.total - this.lastMachine.total;
    const machinePercent = dTotal > 0 ? round1(((machine.busy - this.lastMachine.busy) / dTotal) * 100) : 0;
    this.lastMachine = machine;
    this.lastAt = now;
    this.samples.push({ t: round3((now - this.startedAt) / 1000), at: now, percent, machinePercent, cumulativeMs, processes });
  }

  /** Report over the whole run, or over the samples within [fromEpochMs, toEpochMs]. */
  report(fromEpochMs?: number, toEpochMs?: number): CpuReport {
    const inWindow = this.samples.filter(
      (s) => (fromEpochMs === undefined || s.at >= fromEpochMs) && (toEpochMs === undefined || s.at <= toEpochMs),
    );
    // Baseline: the last sample before the window (or the start).
    const before = fromEpochMs === undefined ? undefined : [...this.samples].reverse().find((s) => s.at < fromEpochMs);
    const baseAt = before?.at ?? this.startedAt;
    const last = inWindow[inWindow.length - 1];
    const wallMs = last ? last.at - baseAt : 0;
    const groups: Record<string, CpuGroupReport> = {};
    let totalCpuMs = 0;
    for (const g of this.groups) {
      const end = last?.cumulativeMs[g.name] ?? 0;
      const base = before?.cumulativeMs[g.name] ?? 0;
      const cpuMs = Math.max(0, end - base);
      totalCpuMs += cpuMs;
      groups[g.name] = {
        cpuMs,
        avgPercent: wallMs > 0 ? round1((cpuMs / wallMs) * 100) : 0,
        peakPercent: inWindow.reduce((m, s) => Math.max(m, s.percent[g.name] ?? 0), 0),
        processesSeen: this.seen.get(g.name)!.size,
      };
    }
    const mAvg = inWindow.length ? inWindow.reduce((a, s) => a + s.machinePercent, 0) / inWindow.length : 0;
    return {
      wallMs,
      groups,
      totalCpuMs,
      machineAvgPercent: round1(mAvg),
      cores: machineCores(),
      samples: inWindow,
    };
  }
}

/** On-CPU ms per accepted request, per group and in total: steadier than throughput. */
export function cpuPerRequest(report: CpuReport, accepted: number): Record<string, number> & { total: number } {
  const out: Record<string, number> = {};
  let total = 0;
  for (const [name, g] of Object.entries(report.groups)) {
    out[name] = accepted > 0 ? round3(g.cpuMs / accepted) : 0;
    total += g.cpuMs;
  }
  return { ...out, total: accepted > 0 ? round3(total / accepted) : 0 };
}

/** Convenience groups for Runplane benches: webapp by pid, postgres and redis by name. */
export function standardGroups(opts: { webappPid?: number; webappCmdline?: string | RegExp } = {}): ProcessGroup[] {
  const groups: ProcessGroup[] = [];
  if (opts.webappPid !== undefined) groups.push({ name: "webapp", pids: [opts.webappPid], includeDescendants: true });
  else if (opts.webappCmdline !== undefined) groups.push({ name: "webapp", match: { cmdline: opts.webappCmdline } });
  groups.push({ name: "postgres", match: { comm: /^postgres$|^postmaster$/ } });
  groups.push({ name: "redis", match: { comm: "redis-server" } });
  return groups;
}

function machineCores(): number {
  const stat = readFileSync("/proc/stat", "utf8");
  return stat.split("\n").filter((l) => /^cpu\d+ /.test(l)).length || 1;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
