import type { Runtime } from "~/services/runtime.server";
import { loadTraceNodes, type TraceNode } from "~/v3/events/tracePresenter.server";
import { LOG_LEVELS, type LogLevel } from "~/v3/events/types";
import type { DashboardRun } from "./runSource.server";
import { runPath, type ScopeSlugs } from "./paths";

/** One span row of the run page's trace tree (flat, depth-first; the client collapses by `depth`). */
export type TraceRow = {
  id: string;
  parentId: string | null;
  depth: number;
  kind: string;
  name: string;
  runId: string;
  /** Link to a child run's page (child run spans only). */
  runHref: string | null;
  /** Offset from the root's start and duration, in ms. */
  offsetMs: number;
  durationMs: number;
  isError: boolean;
  isPartial: boolean;
  properties: Record<string, unknown>;
  /** The exception stack of an error span, when it has one. */
  stack: string | null;
  errorMessage: string | null;
};

export type TraceLogRow = { cursor: string; time: string; level: LogLevel; message: string; runId: string; spanId: string | null; attributes: Record<string, unknown> };

export type RunTraceData = {
  traceId: string;
  totalMs: number;
  rows: TraceRow[];
  logs: TraceLogRow[];
  /** Cursor of the next page of log lines (null: no more). */
  nextCursor: string | null;
  logCount: number;
  truncated: boolean;
  isFinal: boolean;
};

export const TRACE_LOG_PAGE_SIZE = 200;

export type RunTraceQuery = { levels?: LogLevel[]; text?: string; after?: string };

/** The run page's trace: spans as a depth-first tree with a time axis, and one page of filtered log lines. */
export async function presentRunTrace(runtime: Runtime, scope: ScopeSlugs, found: DashboardRun, query: RunTraceQuery): Promise<RunTraceData> {
  const run = found.run;
  const residency = runtime.runStore.residencyOf(run.id);
  const now = new Date();
  const trace = await loadTraceNodes(runtime.events.store, residency, run, { includeLogs: false, now });
  const rootStart = trace.root.startTime.getTime();
  const rootEnd = Math.max(rootStart + 1, ...trace.nodes.map((n) => n.startTime.getTime() + Number(n.durationNs / 1_000_000n)));
  const rows = depthFirst(trace.root, trace.nodes).map(({ node, depth }) => toRow(node, depth, rootStart, run.friendlyId, scope));

  const runIds = [...new Set(trace.nodes.map((n) => n.runId))];
  const after = parseCursor(query.after);
  const levels = query.levels?.filter((l) => LOG_LEVELS.includes(l));
  const logs = await runtime.events.store.logs(residency, {
    runIds,
    level: levels && levels.length > 0 ? levels : undefined,
    text: query.text?.trim() || undefined,
    after,
    limit: TRACE_LOG_PAGE_SIZE + 1,
  });
  const page = logs.slice(0, TRACE_LOG_PAGE_SIZE);
  const logCount = await runtime.events.store.countLogs(residency, runIds);
  return {
    traceId: run.traceId,
    totalMs: rootEnd - rootStart,
    rows,
    logs: page.map((l) => ({
      cursor: `${new Date(l.time).toISOString()}|${l.seq}`,
      time: new Date(l.time).toISOString(),
      level: l.level,
      message: l.message,
      runId: l.runId,
      spanId: l.spanId,
      attributes: l.attributes,
    })),
    nextCursor: logs.length > TRACE_LOG_PAGE_SIZE ? `${new Date(page[page.length - 1]!.time).toISOString()}|${page[page.length - 1]!.seq}` : null,
    logCount,
    truncated: trace.truncated,
    isFinal: !trace.root.isPartial,
  };
}

function parseCursor(value: string | undefined): { time: Date; seq: string } | undefined {
  if (!value) return undefined;
  const [time, seq] = value.split("|");
  const date = new Date(time ?? "");
  return Number.isNaN(date.getTime()) || !/^\d+$/.test(seq ?? "") ? undefined : { time: date, seq: seq! };
}

function depthFirst(root: TraceNode, nodes: TraceNode[]): Array<{ node: TraceNode; depth: number }> {
  const children = new Map<string, TraceNode[]>();
  for (const node of nodes) {
    if (node === root || !node.parentId) continue;
    const list = children.get(node.parentId) ?? [];
    list.push(node);
    children.set(node.parentId, list);
  }
  const out: Array<{ node: TraceNode; depth: number }> = [];
  const visit = (node: TraceNode, depth: number) => {
    out.push({ node, depth });
    for (const child of (children.get(node.id) ?? []).sort((a, b) => a.startTime.getTime() - b.startTime.getTime())) visit(child, depth + 1);
  };
  visit(root, 0);
  return out;
}

function toRow(node: TraceNode, depth: number, rootStart: number, rootRunId: string, scope: ScopeSlugs): TraceRow {
  const exception = node.events.find((e) => e.name === "exception");
  return {
    id: node.id,
    parentId: node.parentId,
    depth,
    kind: node.kind,
    name: node.message,
    runId: node.runId,
    runHref: node.kind === "run" && node.runId !== rootRunId ? runPath(scope, node.runId) : null,
    offsetMs: node.startTime.getTime() - rootStart,
    durationMs: Number(node.durationNs / 1_000_000n),
    isError: node.isError,
    isPartial: node.isPartial,
    properties: node.properties,
    stack: typeof exception?.attributes["exception.stacktrace"] === "string" ? (exception.attributes["exception.stacktrace"] as string) : null,
    errorMessage: typeof exception?.attributes["exception.message"] === "string" ? (exception.attributes["exception.message"] as string) : null,
  };
}
