import { metrics, type Counter } from "@opentelemetry/api";
import { ATTEMPT_NUMBER_ATTRIBUTE, attemptSpanId } from "@runplane/core/traces";
import type { OtlpLog, OtlpSpan, OtlpSignal } from "./otlpDecode.server";
import { runIdOf, type AttributedRun, type RunAttribution } from "./runAttribution.server";
import type { EventStore, LogLevel, LogRecord, RunLocation, SpanRecord } from "./types";

export type IngestResult = { accepted: number; rejected: number; reasons: Partial<Record<DropReason, number>> };
type DropReason = "no_run" | "unknown_run" | "out_of_retention";

const DAY_NS = 86_400_000_000_000n;

/**
 * Turns decoded OTLP records of one environment into stored spans and log records: each must name a
 * run of that environment (else it is dropped and counted), it joins the run's trace, and records
 * without a parent hang under the attempt they name (or the run). Resolves once the batch holding them
 * is committed.
 */
export class OtlpIngestService {
  private readonly dropped: Counter;

  constructor(
    private readonly deps: { store: EventStore; attribution: RunAttribution; retentionDays: number; now?: () => Date }
  ) {
    this.dropped = metrics.getMeter("runplane-events").createCounter("runplane_otel_records_dropped", {
      description: "OTLP spans and log records dropped by the receiver, by reason",
    });
  }

  async ingest(environmentId: string, signal: OtlpSignal, records: OtlpSpan[] | OtlpLog[]): Promise<IngestResult> {
    const named = records.map((r) => runIdOf(r.attributes, r.resource));
    const runs = await this.deps.attribution.resolve(environmentId, new Set(named.filter((id): id is string => id !== null)));
    const nowNs = BigInt((this.deps.now?.() ?? new Date()).getTime()) * 1_000_000n;
    const oldestNs = nowNs - BigInt(this.deps.retentionDays) * DAY_NS;
    const newestNs = nowNs + DAY_NS;

    const reasons: Partial<Record<DropReason, number>> = {};
    const drop = (reason: DropReason) => (reasons[reason] = (reasons[reason] ?? 0) + 1);
    const byResidency = new Map<RunLocation["residency"], { spans: SpanRecord[]; logs: LogRecord[] }>();
    records.forEach((record, i) => {
      const runId = named[i];
      if (!runId) return drop("no_run");
      const run = runs.get(runId);
      if (!run) return drop("unknown_run");
      const timeNs = "startNs" in record ? record.startNs : record.timeNs;
      if (timeNs < oldestNs || timeNs > newestNs) return drop("out_of_retention");
      const bucket = byResidency.get(run.residency) ?? { spans: [], logs: [] };
      byResidency.set(run.residency, bucket);
      if (signal === "traces") bucket.spans.push(toSpanRecord(environmentId, run, record as OtlpSpan));
      else bucket.logs.push(toLogRecord(environmentId, run, record as OtlpLog));
    });

    await Promise.all([...byResidency].map(([residency, batch]) => this.deps.store.write(residency, batch)));
    let rejected = 0;
    for (const [reason, count] of Object.entries(reasons)) {
      rejected += count;
      this.dropped.add(count, { signal, reason });
    }
    return { accepted: records.length - rejected, rejected, reasons };
  }
}

function defaultParent(run: AttributedRun, attributes: Record<string, unknown>, resource: Record<string, unknown>): string {
  const attempt = Number(attributes[ATTEMPT_NUMBER_ATTRIBUTE] ?? resource[ATTEMPT_NUMBER_ATTRIBUTE]);
  return Number.isInteger(attempt) && attempt > 0 ? attemptSpanId(run.friendlyId, attempt) : run.spanId;
}

function nsToDate(ns: bigint): Date {
  return new Date(Number(ns / 1_000_000n));
}

function toSpanRecord(environmentId: string, run: AttributedRun, span: OtlpSpan): SpanRecord {
  const attributes = { ...span.attributes };
  if (span.statusMessage) attributes["status.message"] = span.statusMessage;
  return {
    environmentId,
    runId: run.friendlyId,
    // every record of a run joins the run's trace, whatever trace the exporter had
    traceId: run.traceId,
    spanId: span.spanId,
    parentSpanId: span.parentSpanId ?? defaultParent(run, span.attributes, span.resource),
    name: span.name,
    kind: "task",
    startTime: nsToDate(span.startNs),
    durationNs: span.endNs - span.startNs,
    isError: span.statusCode === 2,
    isPartial: span.attributes["$span.partial"] === true,
    attributes,
    events: span.events.map((e) => ({ name: e.name, time: nsToDate(e.timeNs).toISOString(), attributes: e.attributes })),
  };
}

const SEVERITY_LEVELS: LogLevel[] = ["trace", "debug", "info", "warn", "error", "fatal"];

function levelOf(log: OtlpLog): LogLevel {
  if (log.severityNumber >= 1 && log.severityNumber <= 24) return SEVERITY_LEVELS[Math.floor((log.severityNumber - 1) / 4)]!;
  const text = (log.severityText ?? "").toLowerCase();
  if (text.startsWith("warn")) return "warn";
  return (SEVERITY_LEVELS as string[]).includes(text) ? (text as LogLevel) : "info";
}

function toLogRecord(environmentId: string, run: AttributedRun, log: OtlpLog): LogRecord {
  return {
    environmentId,
    runId: run.friendlyId,
    traceId: run.traceId,
    spanId: log.spanId ?? defaultParent(run, log.attributes, log.resource),
    time: nsToDate(log.timeNs),
    level: levelOf(log),
    message: typeof log.body === "string" ? log.body : JSON.stringify(log.body),
    attributes: log.attributes,
  };
}
