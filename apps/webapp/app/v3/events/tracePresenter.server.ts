import type { EventStore, LogLevel, SpanRecord, StoredLog } from "./types";

/** What the trace reads need of a run (a run-store row, or a buffered run's synthetic one). */
export type TracedRun = {
  id: string;
  friendlyId: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  taskIdentifier: string;
  queue: string;
  status: string;
  createdAt: Date;
  completedAt: Date | null;
};

/** One node of a run's trace: a span (engine, worker or OTLP) or a log line hanging under one. */
export type TraceNode = {
  id: string;
  parentId: string | null;
  runId: string;
  kind: SpanRecord["kind"] | "log";
  message: string;
  level: string;
  startTime: Date;
  durationNs: bigint;
  isError: boolean;
  isPartial: boolean;
  isCancelled: boolean;
  properties: Record<string, unknown>;
  events: SpanRecord["events"];
};

export const TRACE_SPAN_LIMIT = 5_000;
export const TRACE_LOG_LIMIT = 5_000;

const FINAL = new Set(["COMPLETED_SUCCESSFULLY", "COMPLETED_WITH_ERRORS", "CANCELED", "EXPIRED", "TIMED_OUT", "SYSTEM_FAILURE", "CRASHED", "INTERRUPTED"]);
const FAILED = new Set(["COMPLETED_WITH_ERRORS", "SYSTEM_FAILURE", "CRASHED", "TIMED_OUT", "INTERRUPTED", "EXPIRED"]);

/** The run's own span: the stored one once the run finished, else built from the row (partial). */
function rootNode(run: TracedRun, stored: SpanRecord | undefined, now: Date): TraceNode {
  if (stored && !stored.isPartial) return spanNode(stored, run.status === "CANCELED");
  const end = run.completedAt ?? now;
  return {
    id: run.spanId,
    parentId: run.parentSpanId,
    runId: run.friendlyId,
    kind: "run",
    message: run.taskIdentifier,
    level: "TRACE",
    startTime: run.createdAt,
    durationNs: BigInt(Math.max(0, end.getTime() - run.createdAt.getTime())) * 1_000_000n,
    isError: FAILED.has(run.status),
    isPartial: !FINAL.has(run.status),
    isCancelled: run.status === "CANCELED",
    properties: { "ctx.task.id": run.taskIdentifier, queue: run.queue },
    events: [],
  };
}

function spanNode(span: SpanRecord, cancelled = false): TraceNode {
  return {
    id: span.spanId,
    parentId: span.parentSpanId,
    runId: span.runId,
    kind: span.kind,
    message: span.name,
    level: "TRACE",
    startTime: span.startTime,
    durationNs: span.durationNs,
    isError: span.isError,
    isPartial: span.isPartial,
    isCancelled: cancelled || span.attributes["run.cancelled"] === true,
    properties: span.attributes,
    events: span.events,
  };
}

export function logNode(log: StoredLog): TraceNode {
  return {
    id: `log_${log.seq}`,
    parentId: log.spanId,
    runId: log.runId,
    kind: "log",
    message: log.message,
    level: log.level.toUpperCase(),
    startTime: new Date(log.time),
    durationNs: 0n,
    isError: log.level === "error" || log.level === "fatal",
    isPartial: false,
    isCancelled: false,
    properties: log.attributes,
    events: [],
  };
}

/**
 * The nodes of the subtree rooted at the run's span, in start order: the run's trace contains its
 * children's spans (they share the trace id), but not its parent's or siblings'.
 */
export async function loadTraceNodes(
  store: EventStore,
  residency: "LEGACY" | "NEW",
  run: TracedRun,
  options: { includeLogs: boolean; now?: Date }
): Promise<{ root: TraceNode; nodes: TraceNode[]; truncated: boolean }> {
  const spans = run.traceId ? await store.spansOfTrace(residency, run.traceId, TRACE_SPAN_LIMIT) : [];
  const root = rootNode(run, spans.find((s) => s.kind === "run" && s.runId === run.friendlyId), options.now ?? new Date());
  const others = spans.filter((s) => !(s.kind === "run" && s.runId === run.friendlyId)).map((s) => spanNode(s));
  let nodes = [root, ...others];
  let truncated = spans.length >= TRACE_SPAN_LIMIT;
  if (options.includeLogs) {
    const runIds = [...new Set(nodes.map((n) => n.runId))];
    const logs = await store.logs(residency, { runIds, limit: TRACE_LOG_LIMIT });
    truncated ||= logs.length >= TRACE_LOG_LIMIT;
    nodes = nodes.concat(logs.map(logNode));
  }
  return { root, nodes: subtree(root, adoptOrphans(run.friendlyId, root, nodes)), truncated };
}

/** A record of this run whose parent is not in the trace (e.g. its attempt span is not written yet) hangs under the run. */
function adoptOrphans(runId: string, root: TraceNode, nodes: TraceNode[]): TraceNode[] {
  const ids = new Set(nodes.map((n) => n.id));
  return nodes.map((n) => (n !== root && n.runId === runId && (!n.parentId || !ids.has(n.parentId)) ? { ...n, parentId: root.id } : n));
}

function subtree(root: TraceNode, nodes: TraceNode[]): TraceNode[] {
  const children = childrenIndex(nodes);
  const out: TraceNode[] = [];
  const seen = new Set<string>();
  const visit = (node: TraceNode) => {
    if (seen.has(node.id)) return;
    seen.add(node.id);
    out.push(node);
    for (const child of children.get(node.id) ?? []) visit(child);
  };
  visit(root);
  return out;
}

export function childrenIndex(nodes: TraceNode[]): Map<string, TraceNode[]> {
  const index = new Map<string, TraceNode[]>();
  for (const node of nodes) {
    if (!node.parentId) continue;
    const list = index.get(node.parentId) ?? [];
    list.push(node);
    index.set(node.parentId, list);
  }
  for (const list of index.values()) list.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
  return index;
}

// ---- @trigger.dev/core 4.8.3 shapes ----

type ApiTraceSpan = {
  id: string;
  parentId?: string;
  runId: string;
  data: {
    message: string;
    taskSlug?: string;
    events?: unknown[];
    startTime: string;
    duration: number;
    isError: boolean;
    isPartial: boolean;
    isCancelled: boolean;
    level: string;
    queueName?: string;
    properties?: Record<string, unknown>;
  };
  children: ApiTraceSpan[];
};

/** `GET /api/v1/runs/{id}/trace` (RetrieveRunTraceResponseBody); `duration` is in nanoseconds. */
export function toApiTrace(run: TracedRun, root: TraceNode, nodes: TraceNode[]) {
  const children = childrenIndex(nodes);
  const build = (node: TraceNode): ApiTraceSpan => ({
    id: node.id,
    ...(node.parentId ? { parentId: node.parentId } : {}),
    runId: node.runId,
    data: {
      message: node.message,
      ...(node.kind === "run" ? { taskSlug: run.taskIdentifier, queueName: run.queue } : {}),
      events: node.events,
      startTime: node.startTime.toISOString(),
      duration: Number(node.durationNs),
      isError: node.isError,
      isPartial: node.isPartial,
      isCancelled: node.isCancelled,
      level: node.level,
      properties: { ...node.properties, kind: node.kind },
    },
    children: (children.get(node.id) ?? []).map(build),
  });
  return { trace: { traceId: run.traceId, rootSpan: build(root) } };
}

/** The paged form (`?page[size]=…`): flat spans, and the attempts that failed. */
export function toApiTracePage(nodes: TraceNode[], offset: number, size: number) {
  const spans = nodes.filter((n) => n.kind !== "log");
  const page = spans.slice(offset, offset + size);
  return {
    data: page.map((n) => ({
      id: n.id,
      ...(n.parentId ? { parentId: n.parentId } : {}),
      runId: n.runId,
      message: n.message,
      startTime: n.startTime.toISOString(),
      duration: Number(n.durationNs),
      isError: n.isError,
      isPartial: n.isPartial,
      isCancelled: n.isCancelled,
      level: n.level,
      ...(n.kind === "attempt" ? { attemptNumber: Number(n.properties["ctx.attempt.number"]) } : {}),
    })),
    attemptFailures: spans
      .filter((n) => n.kind === "attempt" && n.isError)
      .map((n) => ({ spanId: n.id, attemptNumber: Number(n.properties["ctx.attempt.number"]), runId: n.runId })),
    pagination: offset + size < spans.length ? { next: String(offset + size) } : {},
  };
}

/** `GET /api/v1/runs/{id}/spans/{spanId}` (RetrieveSpanDetailResponseBody). */
export function toApiSpanDetail(node: TraceNode, triggeredRuns: Array<{ runId: string; taskIdentifier: string; status: string; createdAt: Date }>) {
  return {
    spanId: node.id,
    parentId: node.parentId,
    runId: node.runId,
    message: node.message,
    isError: node.isError,
    isPartial: node.isPartial,
    isCancelled: node.isCancelled,
    level: node.level,
    startTime: node.startTime.toISOString(),
    durationMs: Number(node.durationNs / 1_000_000n),
    properties: node.properties,
    events: node.events,
    entityType: node.kind,
    ...(triggeredRuns.length > 0 ? { triggeredRuns: triggeredRuns.map((r) => ({ ...r, createdAt: r.createdAt.toISOString() })) } : {}),
  };
}

/** `GET /api/v1/runs/{id}/events`: every span and log line of the run's trace, oldest first. */
export function toApiEvents(nodes: TraceNode[]) {
  const sorted = [...nodes].sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
  return {
    events: sorted.map((n) => ({
      spanId: n.id,
      parentId: n.parentId,
      runId: n.runId,
      kind: n.kind,
      message: n.message,
      level: n.level,
      startTime: n.startTime.toISOString(),
      duration: Number(n.durationNs),
      isError: n.isError,
      isPartial: n.isPartial,
      isCancelled: n.isCancelled,
      properties: n.properties,
      events: n.events,
    })),
  };
}

export function parseLevels(value: string | null): LogLevel[] | undefined {
  if (!value) return undefined;
  const levels = value.split(",").map((l) => l.trim().toLowerCase()) as LogLevel[];
  return levels.length > 0 ? levels : undefined;
}
