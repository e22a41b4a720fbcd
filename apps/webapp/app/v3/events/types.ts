/**
 * The events store's records and its interface. Postgres (day-partitioned tables beside the runs) is
 * the built-in backend; docs/traces.md describes ClickHouse as the scale-out backend behind the same
 * interface.
 */

export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "fatal";

export type SpanKind = "run" | "queued" | "attempt" | "wait" | "retry" | "task" | "otel";

export type SpanRecord = {
  environmentId: string;
  /** Friendly run id (`run_…`). */
  runId: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  kind: SpanKind;
  startTime: Date;
  durationNs: bigint;
  isError: boolean;
  isPartial: boolean;
  attributes: Record<string, unknown>;
  /** Span events (e.g. `exception` with its stack). */
  events: SpanEventRecord[];
};

export type SpanEventRecord = { name: string; time: string; attributes: Record<string, unknown> };

export type LogRecord = {
  environmentId: string;
  runId: string;
  traceId: string;
  spanId: string | null;
  time: Date;
  level: LogLevel;
  message: string;
  attributes: Record<string, unknown>;
};

/** Where a run's events live: its residency decides the database (split mode). */
export type RunLocation = { runId: string; residency: "LEGACY" | "NEW" };

export type StoredLog = LogRecord & { seq: string };

export type LogQuery = {
  /** Runs whose logs to read (a trace spans the root run and its children). */
  runIds: string[];
  level?: LogLevel[];
  text?: string;
  /** Page after this position (time + seq), oldest first. */
  after?: { time: Date; seq: string };
  limit: number;
};

export interface EventStore {
  /** Queues records for the next batched insert; resolves once they are committed. Throws EventStoreOverloadedError when full. */
  write(residency: RunLocation["residency"], records: { spans?: SpanRecord[]; logs?: LogRecord[] }): Promise<void>;
  /** Every span of a trace (the root run, its children), oldest first, at most `limit`. */
  spansOfTrace(residency: RunLocation["residency"], traceId: string, limit: number): Promise<SpanRecord[]>;
  /** One span of a run (the latest version when it was written more than once). */
  findSpan(residency: RunLocation["residency"], runId: string, spanId: string): Promise<SpanRecord | null>;
  logs(residency: RunLocation["residency"], query: LogQuery): Promise<StoredLog[]>;
  countLogs(residency: RunLocation["residency"], runIds: string[]): Promise<number>;
  /** Drops day partitions older than the retention; returns the dropped partition names. */
  dropExpiredPartitions(now: Date): Promise<string[]>;
  /** Records queued but not yet committed (the overload gauge). */
  readonly pending: number;
  close(): Promise<void>;
}

export const LOG_LEVELS: LogLevel[] = ["trace", "debug", "info", "warn", "error", "fatal"];
