import pg from "pg";
import { BatchedWriter } from "./batchedWriter.server";
import { createPartition, dayOf, dropExpired, EVENT_TABLES } from "./partitions.server";
import type { EventStore, LogQuery, LogRecord, RunLocation, SpanRecord, StoredLog } from "./types";

type Residency = RunLocation["residency"];
type Item = { span: SpanRecord } | { log: LogRecord };

export type PostgresEventStoreOptions = {
  /** The control-plane database (LEGACY runs, and every run when split is off). */
  databaseUrl: string;
  /** The run-ops database, when split is on: NEW runs' events live there. */
  runOpsDatabaseUrl?: string;
  poolSize: number;
  retentionDays: number;
  batchSize: number;
  flushIntervalMs: number;
  maxPending: number;
};

const INSERT_SPANS = `INSERT INTO "RunSpan" ("environmentId","runId","traceId","spanId","parentSpanId","name","kind","startTime","durationNs","isError","isPartial","attributes","events")
SELECT * FROM unnest($1::text[],$2::text[],$3::text[],$4::text[],$5::text[],$6::text[],$7::text[],$8::timestamptz[],$9::bigint[],$10::boolean[],$11::boolean[],$12::jsonb[],$13::jsonb[])`;

const INSERT_LOGS = `INSERT INTO "RunLog" ("environmentId","runId","traceId","spanId","time","level","message","attributes")
SELECT * FROM unnest($1::text[],$2::text[],$3::text[],$4::text[],$5::timestamptz[],$6::text[],$7::text[],$8::jsonb[])`;

const SPAN_COLUMNS = `"environmentId","runId","traceId","spanId","parentSpanId","name","kind","startTime","durationNs"::text AS "durationNs","isError","isPartial","attributes","events"`;

type SpanRow = Omit<SpanRecord, "durationNs"> & { durationNs: string };

/** One database's pool and batched writer; partitions already created are remembered. */
class EventDatabase {
  readonly pool: pg.Pool;
  readonly writer: BatchedWriter<Item>;
  private readonly knownDays = new Set<string>();

  constructor(url: string, options: PostgresEventStoreOptions) {
    this.pool = new pg.Pool({ connectionString: url, max: options.poolSize, application_name: "runplane-events" });
    this.pool.on("error", () => {}); // idle-client errors surface on the next query
    this.writer = new BatchedWriter<Item>({
      flush: (items) => this.insert(items),
      batchSize: options.batchSize,
      flushIntervalMs: options.flushIntervalMs,
      maxPending: options.maxPending,
    });
  }

  private async ensurePartitions(table: (typeof EVENT_TABLES)[number], times: Date[]): Promise<void> {
    const days = new Set(times.map(dayOf));
    for (const day of days) {
      const key = `${table}:${day}`;
      if (this.knownDays.has(key)) continue;
      await createPartition(this.pool, table, day);
      this.knownDays.add(key);
    }
  }

  forgetPartitions(): void {
    this.knownDays.clear();
  }

  private async insert(items: Item[]): Promise<void> {
    const spans: SpanRecord[] = [];
    const logs: LogRecord[] = [];
    for (const item of items) {
      if ("span" in item) spans.push(item.span);
      else logs.push(item.log);
    }
    if (spans.length > 0) {
      await this.ensurePartitions("RunSpan", spans.map((s) => s.startTime));
      await this.pool.query(INSERT_SPANS, [
        spans.map((s) => s.environmentId),
        spans.map((s) => s.runId),
        spans.map((s) => s.traceId),
        spans.map((s) => s.spanId),
        spans.map((s) => s.parentSpanId),
        spans.map((s) => s.name),
        spans.map((s) => s.kind),
        spans.map((s) => s.startTime.toISOString()),
        spans.map((s) => s.durationNs.toString()),
        spans.map((s) => s.isError),
        spans.map((s) => s.isPartial),
        spans.map((s) => JSON.stringify(s.attributes)),
        spans.map((s) => JSON.stringify(s.events)),
      ]);
    }
    if (logs.length > 0) {
      await this.ensurePartitions("RunLog", logs.map((l) => l.time));
      await this.pool.query(INSERT_LOGS, [
        logs.map((l) => l.environmentId),
        logs.map((l) => l.runId),
        logs.map((l) => l.traceId),
        logs.map((l) => l.spanId),
        logs.map((l) => l.time.toISOString()),
        logs.map((l) => l.level),
        logs.map((l) => l.message),
        logs.map((l) => JSON.stringify(l.attributes)),
      ]);
    }
  }
}

/**
 * The built-in events store: `RunSpan` / `RunLog` in the database that owns the run (run-ops for NEW
 * runs when split is on), day-partitioned, written in batches (one multi-row insert per table per
 * flush) with a bounded queue per database.
 */
export class PostgresEventStore implements EventStore {
  private readonly legacy: EventDatabase;
  private readonly runOps?: EventDatabase;

  constructor(private readonly options: PostgresEventStoreOptions) {
    this.legacy = new EventDatabase(options.databaseUrl, options);
    if (options.runOpsDatabaseUrl) this.runOps = new EventDatabase(options.runOpsDatabaseUrl, options);
  }

  private db(residency: Residency): EventDatabase {
    return residency === "NEW" && this.runOps ? this.runOps : this.legacy;
  }

  get pending(): number {
    return this.legacy.writer.pending + (this.runOps?.writer.pending ?? 0);
  }

  write(residency: Residency, records: { spans?: SpanRecord[]; logs?: LogRecord[] }): Promise<void> {
    const items: Item[] = [...(records.spans ?? []).map((span) => ({ span })), ...(records.logs ?? []).map((log) => ({ log }))];
    return this.db(residency).writer.write(items);
  }

  async spansOfTrace(residency: Residency, traceId: string, limit: number): Promise<SpanRecord[]> {
    const { rows } = await this.db(residency).pool.query<SpanRow>(
      `SELECT ${SPAN_COLUMNS} FROM "RunSpan" WHERE "traceId" = $1 ORDER BY "startTime", "insertedAt" LIMIT $2`,
      [traceId, limit]
    );
    return latestVersions(rows.map(toSpan));
  }

  async findSpan(residency: Residency, runId: string, spanId: string): Promise<SpanRecord | null> {
    const { rows } = await this.db(residency).pool.query<SpanRow>(
      `SELECT ${SPAN_COLUMNS} FROM "RunSpan" WHERE "runId" = $1 AND "spanId" = $2 ORDER BY "isPartial" ASC, "insertedAt" DESC LIMIT 1`,
      [runId, spanId]
    );
    return rows[0] ? toSpan(rows[0]) : null;
  }

  async logs(residency: Residency, query: LogQuery): Promise<StoredLog[]> {
    const where = [`"runId" = ANY($1::text[])`];
    const params: unknown[] = [query.runIds];
    if (query.level && query.level.length > 0) {
      params.push(query.level);
      where.push(`"level" = ANY($${params.length}::text[])`);
    }
    if (query.text) {
      params.push(`%${query.text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      where.push(`"message" ILIKE $${params.length}`);
    }
    if (query.after) {
      params.push(query.after.time.toISOString(), query.after.seq);
      where.push(`("time", "seq") > ($${params.length - 1}::timestamptz, $${params.length}::bigint)`);
    }
    params.push(query.limit);
    const { rows } = await this.db(residency).pool.query<LogRecord & { seq: string }>(
      `SELECT "environmentId","runId","traceId","spanId","time","level","message","attributes","seq"::text AS "seq"
       FROM "RunLog" WHERE ${where.join(" AND ")} ORDER BY "time", "seq" LIMIT $${params.length}`,
      params
    );
    return rows;
  }

  async countLogs(residency: Residency, runIds: string[]): Promise<number> {
    const { rows } = await this.db(residency).pool.query<{ count: string }>(
      `SELECT count(*)::text AS count FROM "RunLog" WHERE "runId" = ANY($1::text[])`,
      [runIds]
    );
    return Number(rows[0]?.count ?? 0);
  }

  async dropExpiredPartitions(now: Date): Promise<string[]> {
    const dropped: string[] = [];
    for (const db of [this.legacy, this.runOps]) {
      if (!db) continue;
      const names = await dropExpired(db.pool, now, this.options.retentionDays);
      if (names.length > 0) db.forgetPartitions();
      dropped.push(...names);
    }
    return dropped;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.legacy.writer.close(), this.runOps?.writer.close()]);
    await Promise.allSettled([this.legacy.pool.end(), this.runOps?.pool.end()]);
  }
}

function toSpan(row: SpanRow): SpanRecord {
  return { ...row, durationNs: BigInt(row.durationNs) };
}

/** A span written more than once (partial at start, final at end): keep the final, else the latest. */
function latestVersions(spans: SpanRecord[]): SpanRecord[] {
  const bySpan = new Map<string, SpanRecord>();
  for (const span of spans) {
    const key = `${span.runId}:${span.spanId}`;
    const seen = bySpan.get(key);
    if (!seen || (seen.isPartial && !span.isPartial) || (seen.isPartial === span.isPartial)) bySpan.set(key, span);
  }
  return [...bySpan.values()].sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
}
