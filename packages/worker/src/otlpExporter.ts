import { randomBytes } from "node:crypto";
import { ATTEMPT_NUMBER_ATTRIBUTE, attemptSpanId } from "@runplane/core/traces";
import type { LogLevel } from "./log.js";

/** Which run and attempt a record belongs to. */
export type RecordOwner = { runId: string; attemptNumber: number; taskId: string };

type KeyValue = { key: string; value: Record<string, unknown> };

const SEVERITY: Record<LogLevel, number> = { debug: 5, info: 9, warn: 13, error: 17 };
const MAX_QUEUED = 20_000;
const MAX_BATCH = 1_000;

/**
 * Sends the task's log lines (logger.* and console.*) and its attempt spans to the server's OTLP/HTTP
 * receiver (`/otel/v1/logs`, `/otel/v1/traces`, OTLP/JSON). Records wait in a bounded queue (the
 * oldest are dropped beyond it) and go out in batches; a failed export is dropped, never retried in a
 * loop: telemetry must not slow the task down.
 */
export class OtlpExporter {
  private logs: Array<{ owner: RecordOwner; record: Record<string, unknown> }> = [];
  private spans: Array<{ owner: RecordOwner; span: Record<string, unknown> }> = [];
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> = Promise.resolve();
  dropped = 0;

  constructor(
    private readonly options: { apiUrl: string; secretKey: string; flushIntervalMs?: number; onError?: (error: unknown) => void },
  ) {}

  log(owner: RecordOwner, level: LogLevel, message: string, fields: Record<string, unknown>, time = new Date()): void {
    this.enqueue(this.logs, {
      owner,
      record: {
        timeUnixNano: nanos(time),
        severityNumber: SEVERITY[level],
        severityText: level.toUpperCase(),
        body: { stringValue: message },
        attributes: toKeyValues({ ...fields, [ATTEMPT_NUMBER_ATTRIBUTE]: owner.attemptNumber }),
        spanId: attemptSpanId(owner.runId, owner.attemptNumber),
      },
    });
  }

  /** The task function's span inside its attempt, with the error (and its stack) when it threw. */
  span(owner: RecordOwner, name: string, start: Date, end: Date, error?: { name: string; message: string; stack?: string }): void {
    this.enqueue(this.spans, {
      owner,
      span: {
        traceId: randomBytes(16).toString("hex"), // the server puts every span of a run in the run's trace
        spanId: randomBytes(8).toString("hex"),
        parentSpanId: attemptSpanId(owner.runId, owner.attemptNumber),
        name,
        kind: 1,
        startTimeUnixNano: nanos(start),
        endTimeUnixNano: nanos(end),
        attributes: toKeyValues({ [ATTEMPT_NUMBER_ATTRIBUTE]: owner.attemptNumber, "ctx.task.id": owner.taskId }),
        status: error ? { code: 2, message: error.message } : { code: 1 },
        events: error
          ? [
              {
                name: "exception",
                timeUnixNano: nanos(end),
                attributes: toKeyValues({ "exception.type": error.name, "exception.message": error.message, "exception.stacktrace": error.stack ?? "" }),
              },
            ]
          : [],
      },
    });
  }

  private enqueue<T>(queue: T[], item: T): void {
    if (queue.length >= MAX_QUEUED) {
      queue.shift();
      this.dropped++;
    }
    queue.push(item);
    this.timer ??= setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, this.options.flushIntervalMs ?? 500);
  }

  /** Sends everything queued so far; resolves when the requests have been answered. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const logs = this.logs.splice(0);
    const spans = this.spans.splice(0);
    const sends: Promise<void>[] = [];
    for (let i = 0; i < logs.length; i += MAX_BATCH) {
      const batch = logs.slice(i, i + MAX_BATCH);
      sends.push(this.post("logs", { resourceLogs: byOwner(batch, (items) => ({ scopeLogs: [{ scope: { name: "runplane-worker" }, logRecords: items.map((b) => b.record) }] })) }));
    }
    for (let i = 0; i < spans.length; i += MAX_BATCH) {
      const batch = spans.slice(i, i + MAX_BATCH);
      sends.push(this.post("traces", { resourceSpans: byOwner(batch, (items) => ({ scopeSpans: [{ scope: { name: "runplane-worker" }, spans: items.map((b) => b.span) }] })) }));
    }
    this.inFlight = Promise.all([this.inFlight, ...sends]).then(() => {});
    return this.inFlight;
  }

  private async post(signal: "logs" | "traces", body: unknown): Promise<void> {
    try {
      const res = await fetch(`${this.options.apiUrl.replace(/\/+$/, "")}/otel/v1/${signal}`, {
        method: "POST",
        headers: { authorization: `Bearer ${this.options.secretKey}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok) this.options.onError?.(new Error(`OTLP export of ${signal} answered ${res.status}`));
    } catch (error) {
      this.options.onError?.(error);
    }
  }

  async close(): Promise<void> {
    await this.flush();
  }
}

/** One resource per run (its attributes name the run), so the server attributes each record. */
function byOwner<T extends { owner: RecordOwner }>(items: T[], scope: (items: T[]) => Record<string, unknown>): Record<string, unknown>[] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const list = groups.get(item.owner.runId) ?? [];
    list.push(item);
    groups.set(item.owner.runId, list);
  }
  return [...groups].map(([runId, list]) => ({
    resource: { attributes: toKeyValues({ "ctx.run.id": runId, "service.name": "runplane-worker" }) },
    ...scope(list),
  }));
}

function nanos(time: Date): string {
  return (BigInt(time.getTime()) * 1_000_000n).toString();
}

function toKeyValues(fields: Record<string, unknown>): KeyValue[] {
  return Object.entries(fields).map(([key, value]) => ({ key, value: anyValue(value) }));
}

function anyValue(value: unknown): Record<string, unknown> {
  if (typeof value === "string") return { stringValue: value };
  if (typeof value === "boolean") return { boolValue: value };
  if (typeof value === "number") return Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value };
  if (value instanceof Error) return { stringValue: value.stack ?? value.message };
  if (value === null || value === undefined) return { stringValue: "" };
  try {
    return { stringValue: JSON.stringify(value) };
  } catch {
    return { stringValue: String(value) };
  }
}
