import type { EngineEventBus, TaskRunErrorShape } from "@internal/run-engine";
import { engineStore, type RunStore, type Waitpoint } from "@internal/run-store";
import { toFriendlyId } from "@runplane/core";
import { attemptSpanId, queuedSpanId, retrySpanId, waitSpanId } from "@runplane/core/traces";
import type { Logger } from "~/services/logger.server";
import type { EventStore, SpanRecord } from "./types";

type RunFacts = {
  id: string;
  friendlyId: string;
  runtimeEnvironmentId: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  taskIdentifier: string;
  queue: string;
  createdAt: Date;
  status: string;
};

const RUN_SELECT = {
  id: true,
  friendlyId: true,
  runtimeEnvironmentId: true,
  traceId: true,
  spanId: true,
  parentSpanId: true,
  taskIdentifier: true,
  queue: true,
  createdAt: true,
  status: true,
} as const;

const MS_NS = 1_000_000n;

/**
 * The engine's own spans, so every run has a trace without user logs: queued → dequeued, each
 * attempt (outcome, error with stack), each wait (waited-on run, batch, token or duration), each retry
 * delay, and the run itself. Built from the engine's event bus (no engine internals); written through
 * the events store beside the run.
 */
export class EngineSpanRecorder {
  /** Start time of attempts in flight on this instance (a restart falls back to the stored partial span). */
  private readonly attemptStarts = new Map<string, Date>();
  /** Failures waiting for their retry (the delay span closes when the next attempt starts). */
  private readonly retries = new Map<string, { failedAt: Date; retryAt: Date }>();
  private readonly unsubscribe: Array<() => void> = [];

  constructor(private readonly deps: { eventBus: EngineEventBus; runStore: RunStore; store: EventStore; logger: Logger }) {}

  start(): void {
    const bus = this.deps.eventBus;
    this.unsubscribe.push(
      bus.on("runStatusChanged", (e) => (e.run.status === "DEQUEUED" ? this.guard(() => this.onDequeued(e.run.id, e.time)) : undefined)),
      bus.on("runAttemptStarted", (e) => this.guard(() => this.onAttemptStarted(e.run.id, e.run.attemptNumber, e.time))),
      bus.on("runAttemptFailed", (e) => this.guard(() => this.onAttemptFailed(e.run.id, e.run.attemptNumber, e.run.error, e.time, e.retryAt))),
      bus.on("runSucceeded", (e) => this.guard(() => this.onFinished(e.run.id, e.run.attemptNumber, e.time, null, false))),
      bus.on("runFailed", (e) => this.guard(() => this.onFinished(e.run.id, e.run.attemptNumber, e.time, e.run.error, false))),
      bus.on("runCancelled", (e) => this.guard(() => this.onFinished(e.run.id, e.run.attemptNumber, e.time, e.run.error, true))),
      bus.on("runExpired", (e) => this.guard(() => this.onFinished(e.run.id, null, e.time, { type: "STRING_ERROR", raw: "Run expired (TTL)" }, false))),
      bus.on("executionSnapshotCreated", (e) =>
        e.snapshot.executionStatus === "EXECUTING_WITH_WAITPOINTS" ? this.guard(() => this.onBlocked(e.run.id, e.time)) : undefined
      ),
      bus.on("waitpointCompleted", (e) => this.guard(() => this.onWaitpointCompleted(e.waitpoint.id, e.blockedRunIds, e.time)))
    );
  }

  stop(): void {
    for (const off of this.unsubscribe.splice(0)) off();
  }

  private async guard(fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (error) {
      // a trace is best effort: never fail the engine for it
      this.deps.logger.warn("could not record an engine span", { error: error instanceof Error ? error.message : String(error) });
    }
  }

  private async run(id: string): Promise<RunFacts | null> {
    return (await this.deps.runStore.findRun({ id }, RUN_SELECT)) as RunFacts | null;
  }

  private span(run: RunFacts, fields: Omit<SpanRecord, "environmentId" | "runId" | "traceId" | "attributes" | "events"> & Partial<Pick<SpanRecord, "attributes" | "events">>): SpanRecord {
    return {
      environmentId: run.runtimeEnvironmentId,
      runId: run.friendlyId,
      traceId: run.traceId,
      events: [],
      ...fields,
      attributes: { "ctx.run.id": run.friendlyId, ...fields.attributes },
    };
  }

  private write(run: RunFacts, spans: SpanRecord[]): Promise<void> {
    return this.deps.store.write(this.deps.runStore.residencyOf(run.id), { spans });
  }

  /** The first dequeue closes the time the run spent queued (a retry's requeue is its retry delay). */
  private async onDequeued(runId: string, time: Date): Promise<void> {
    const run = (await this.deps.runStore.findRun({ id: runId }, { ...RUN_SELECT, queuedAt: true })) as (RunFacts & { queuedAt: Date | null }) | null;
    if (!run) return;
    // the run's attempt number may already have moved on when this runs: the stored span tells a retry apart
    const residency = this.deps.runStore.residencyOf(run.id);
    if (await this.deps.store.findSpan(residency, run.friendlyId, queuedSpanId(run.friendlyId))) return;
    const start = run.queuedAt ?? run.createdAt;
    await this.write(run, [
      this.span(run, {
        spanId: queuedSpanId(run.friendlyId),
        parentSpanId: run.spanId,
        name: "Queued",
        kind: "queued",
        startTime: start,
        durationNs: BigInt(Math.max(0, time.getTime() - start.getTime())) * MS_NS,
        isError: false,
        isPartial: false,
        attributes: { queue: run.queue },
      }),
    ]);
  }

  private async onAttemptStarted(runId: string, attemptNumber: number, time: Date): Promise<void> {
    const run = await this.run(runId);
    if (!run) return;
    remember(this.attemptStarts, `${runId}:${attemptNumber}`, time);
    const spans: SpanRecord[] = [];
    const retry = this.retries.get(`${runId}:${attemptNumber}`);
    if (retry) {
      this.retries.delete(`${runId}:${attemptNumber}`);
      spans.push(this.retrySpan(run, attemptNumber, retry.failedAt, time, retry.retryAt, false));
    }
    spans.push(this.attemptSpan(run, attemptNumber, time, time, { isPartial: true }));
    await this.write(run, spans);
  }

  private attemptSpan(run: RunFacts, attemptNumber: number, start: Date, end: Date, options: { isPartial?: boolean; error?: TaskRunErrorShape | null; cancelled?: boolean }): SpanRecord {
    const error = options.error ? describeRunError(options.error) : null;
    return this.span(run, {
      spanId: attemptSpanId(run.friendlyId, attemptNumber),
      parentSpanId: run.spanId,
      name: `Attempt ${attemptNumber}`,
      kind: "attempt",
      startTime: start,
      durationNs: BigInt(Math.max(0, end.getTime() - start.getTime())) * MS_NS,
      isError: Boolean(error) && !options.cancelled,
      isPartial: options.isPartial ?? false,
      attributes: { "ctx.attempt.number": attemptNumber, ...(error ? { "error.message": error.message } : {}) },
      events: error ? [exceptionEvent(error, end)] : [],
    });
  }

  private async attemptStart(run: RunFacts, attemptNumber: number, fallback: Date): Promise<Date> {
    const key = `${run.id}:${attemptNumber}`;
    const known = this.attemptStarts.get(key);
    this.attemptStarts.delete(key);
    if (known) return known;
    const stored = await this.deps.store.findSpan(this.deps.runStore.residencyOf(run.id), run.friendlyId, attemptSpanId(run.friendlyId, attemptNumber));
    return stored?.startTime ?? fallback;
  }

  private async onAttemptFailed(runId: string, attemptNumber: number, error: TaskRunErrorShape, time: Date, retryAt: Date | null): Promise<void> {
    const run = await this.run(runId);
    if (!run) return;
    const start = await this.attemptStart(run, attemptNumber, time);
    const spans = [this.attemptSpan(run, attemptNumber, start, time, { error })];
    if (retryAt) {
      // partial until the next attempt starts: the real delay includes the wait for a slot
      remember(this.retries, `${runId}:${attemptNumber + 1}`, { failedAt: time, retryAt });
      spans.push(this.retrySpan(run, attemptNumber + 1, time, retryAt, retryAt, true));
    }
    await this.write(run, spans);
  }

  private retrySpan(run: RunFacts, nextAttempt: number, failedAt: Date, end: Date, retryAt: Date, isPartial: boolean): SpanRecord {
    return this.span(run, {
      spanId: retrySpanId(run.friendlyId, nextAttempt),
      parentSpanId: run.spanId,
      name: `Retry delay before attempt ${nextAttempt}`,
      kind: "retry",
      startTime: failedAt,
      durationNs: BigInt(Math.max(0, end.getTime() - failedAt.getTime())) * MS_NS,
      isError: false,
      isPartial,
      attributes: { "retry.delay_ms": Math.max(0, retryAt.getTime() - failedAt.getTime()), "retry.at": retryAt.toISOString(), "retry.attempt": nextAttempt },
    });
  }

  private async onFinished(runId: string, attemptNumber: number | null, time: Date, error: TaskRunErrorShape | null, cancelled: boolean): Promise<void> {
    this.retries.delete(`${runId}:${(attemptNumber ?? 0) + 1}`);
    const run = await this.run(runId);
    if (!run) return;
    const spans: SpanRecord[] = [];
    // the last attempt ends with the run (runAttemptFailed already closed attempts that will retry)
    if (attemptNumber && attemptNumber > 0) {
      const start = await this.attemptStart(run, attemptNumber, time);
      spans.push(this.attemptSpan(run, attemptNumber, start, time, { error, cancelled }));
    }
    const described = error ? describeRunError(error) : null;
    spans.push(
      this.span(run, {
        spanId: run.spanId,
        parentSpanId: run.parentSpanId,
        name: run.taskIdentifier,
        kind: "run",
        startTime: run.createdAt,
        durationNs: BigInt(Math.max(0, time.getTime() - run.createdAt.getTime())) * MS_NS,
        isError: Boolean(described) && !cancelled,
        isPartial: false,
        attributes: { "ctx.task.id": run.taskIdentifier, queue: run.queue, "run.status": run.status, ...(cancelled ? { "run.cancelled": true } : {}) },
        events: described && !cancelled ? [exceptionEvent(described, time)] : [],
      })
    );
    await this.write(run, spans);
  }

  /** A run blocked on waitpoints: each pending wait shows at once, as a partial span (closed on completion). */
  private async onBlocked(runId: string, time: Date): Promise<void> {
    const run = (await this.deps.runStore.findRun({ id: runId }, { ...RUN_SELECT, attemptNumber: true })) as (RunFacts & { attemptNumber: number | null }) | null;
    if (!run) return;
    const edges = await engineStore.listBlockingEdges(this.deps.runStore, run.id);
    const pending = edges.filter((e) => e.waitpoint.status === "PENDING");
    if (pending.length > 0) await this.write(run, pending.map((e) => this.waitSpan(run, e.waitpoint, time, true)));
  }

  private async onWaitpointCompleted(waitpointId: string, blockedRunIds: string[], time: Date): Promise<void> {
    if (blockedRunIds.length === 0) return;
    const waitpoint = await this.deps.runStore.findWaitpoint({ id: waitpointId });
    if (!waitpoint) return;
    for (const blockedRunId of blockedRunIds) {
      const run = (await this.deps.runStore.findRun({ id: blockedRunId }, { ...RUN_SELECT, attemptNumber: true })) as (RunFacts & { attemptNumber: number | null }) | null;
      if (!run) continue;
      await this.write(run, [this.waitSpan(run, waitpoint, waitpoint.completedAt ?? time, false)]);
    }
  }

  /** A wait of `run` on `waitpoint`, named by what it waits for, under the attempt that waits. */
  private waitSpan(run: RunFacts & { attemptNumber: number | null }, waitpoint: Waitpoint, end: Date, isPartial: boolean): SpanRecord {
    const waitedOn: Record<string, unknown> = { "waitpoint.id": waitpoint.friendlyId, "waitpoint.type": waitpoint.type };
    let name: string;
    if (waitpoint.type === "RUN" && waitpoint.completedByTaskRunId) {
      const child = toFriendlyId("run", waitpoint.completedByTaskRunId);
      waitedOn["wait.run.id"] = child;
      name = `Wait for run ${child}`;
    } else if (waitpoint.type === "BATCH" && waitpoint.completedByBatchId) {
      const batch = toFriendlyId("batch", waitpoint.completedByBatchId);
      waitedOn["wait.batch.id"] = batch;
      name = `Wait for batch ${batch}`;
    } else if (waitpoint.type === "DATETIME") {
      const ms = (waitpoint.completedAfter ?? end).getTime() - waitpoint.createdAt.getTime();
      waitedOn["wait.duration_ms"] = Math.max(0, ms);
      if (waitpoint.completedAfter) waitedOn["wait.until"] = waitpoint.completedAfter.toISOString();
      name = `Wait ${formatSeconds(ms)}`;
    } else {
      waitedOn["wait.token.id"] = waitpoint.friendlyId;
      name = `Wait for token ${waitpoint.friendlyId}`;
    }
    return this.span(run, {
      spanId: waitSpanId(run.friendlyId, waitpoint.id),
      parentSpanId: attemptSpanId(run.friendlyId, Math.max(1, run.attemptNumber ?? 1)),
      name,
      kind: "wait",
      startTime: waitpoint.createdAt,
      durationNs: BigInt(Math.max(0, end.getTime() - waitpoint.createdAt.getTime())) * MS_NS,
      isError: !isPartial && waitpoint.outputIsError,
      isPartial,
      attributes: waitedOn,
    });
  }
}

/** In-flight facts of this instance; bounded, since another instance may see a run's next event. */
const MAX_REMEMBERED = 10_000;
function remember<V>(map: Map<string, V>, key: string, value: V): void {
  if (map.size >= MAX_REMEMBERED) map.delete(map.keys().next().value!);
  map.set(key, value);
}

/** Whole seconds from 1 s up (the worker computes the wake-up time a moment before the waitpoint exists). */
function formatSeconds(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 1000)}s` : `${Math.max(0, Math.round(ms))}ms`;
}

type DescribedError = { type: string; message: string; stack?: string };

function describeRunError(error: TaskRunErrorShape): DescribedError {
  switch (error.type) {
    case "BUILT_IN_ERROR":
      return { type: error.name, message: error.message, stack: error.stackTrace };
    case "INTERNAL_ERROR":
      return { type: error.code, message: error.message ?? error.code, stack: error.stackTrace };
    case "CUSTOM_ERROR":
    case "STRING_ERROR":
      return { type: "Error", message: error.raw };
  }
}

function exceptionEvent(error: DescribedError, time: Date): SpanRecord["events"][number] {
  return {
    name: "exception",
    time: time.toISOString(),
    attributes: { "exception.type": error.type, "exception.message": error.message, ...(error.stack ? { "exception.stacktrace": error.stack } : {}) },
  };
}
