import { ComputeBudget } from "./budget.js";
import { runWithRuntime, type BatchRunResult, type RunRuntime, type TaskContext, type TaskRunResult, type WaitTokenResult } from "./context.js";
import {
  ApiError,
  AttemptInterruptedError,
  internalError,
  serializeError,
  shouldSkipRetrying,
  StaleSnapshotError,
  TaskRunError,
  WaitpointTimeoutError,
} from "./errors.js";
import type { ConcurrencyGate } from "./gate.js";
import { isAbortError, sleep } from "./http.js";
import type { Logger } from "./log.js";
import type { OtlpExporter, RecordOwner } from "./otlpExporter.js";
import { MetadataStore } from "./metadataStore.js";
import { serializePacket } from "./packets.js";
import {
  WORKER_INTERNAL_ERROR_CODES as CODES,
  WorkerTaskRunError,
  type WorkerAttemptCompletion,
  type WorkerCompleteAttemptResponse,
  type WorkerCompletedWaitpoint,
  type WorkerDequeuedRun,
  type WorkerTaskRunExecution,
} from "./protocol.js";
import type { BatchItem, ParentLink, PublicApi, TriggerOptions } from "./publicApi.js";
import type { TaskSource } from "./task.js";
import type { WorkerApi } from "./workerApi.js";

export type RunExecutionSettings = {
  heartbeatIntervalMs: number;
  /** waitMs of each `continue` long-poll. */
  continueWaitMs: number;
  /** Durations shorter than this are slept in-process instead of blocking the run on the server. */
  localWaitThresholdMs: number;
  metadataFlushIntervalMs: number;
  /** How long the end-of-attempt metadata flush may take before the completion is sent anyway. */
  finalFlushTimeoutMs: number;
};

export type RunExecutionDeps = {
  workerApi: WorkerApi;
  publicApi: PublicApi;
  tasks: Map<string, TaskSource>;
  gate: ConcurrencyGate;
  logger: Logger;
  taskLogger: Logger;
  worker: { id: string; version: string };
  settings: RunExecutionSettings;
  /** Aborted when the worker's shutdown deadline has passed. */
  forceStopSignal: AbortSignal;
  /** Exports task logs and attempt spans (absent when telemetry export is off). */
  exporter?: OtlpExporter;
};

type InterruptKind = "cancelled" | "maxDuration" | "shutdown";
type Interruption = {
  kind: InterruptKind;
  /** Snapshot to complete on (the server's, for a cancel); undefined with post=false. */
  snapshotId?: string;
  /** false when there is nothing to tell the server (the run is gone). */
  post: boolean;
};

type AttemptOutcome = { completion: WorkerAttemptCompletion; snapshotId: string } | null;

function backoffMs(failures: number): number {
  return Math.min(30_000, 500 * 2 ** Math.min(failures, 6));
}

function interruptionCompletion(kind: InterruptKind, maxDurationSeconds?: number): WorkerAttemptCompletion {
  switch (kind) {
    case "cancelled":
      return { ok: false, error: internalError(CODES.cancelled, "Run was cancelled"), skipRetrying: true };
    case "maxDuration":
      return {
        ok: false,
        error: internalError(CODES.maxDurationExceeded, `Run exceeded its maxDuration of ${maxDurationSeconds} seconds`),
        skipRetrying: true,
      };
    case "shutdown":
      return {
        ok: false,
        error: internalError(CODES.workerShutdown, "The worker shut down before the attempt finished"),
        skipRetrying: false,
      };
  }
}

/**
 * One dequeued run on this worker, from `attempts/start` to the last completion (several attempts when
 * the server answers RETRY_IMMEDIATELY). It holds a concurrency slot except while it waits, heartbeats
 * the run's latest snapshot, and owns the attempt's interruption (cancel, maxDuration, shutdown).
 */
export class RunExecution {
  readonly runId: string;
  readonly taskIdentifier: string;
  readonly done: Promise<void>;

  private snapshotId: string;
  private heartbeatSnapshotId: string;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private heartbeatInFlight = false;
  private holdsSlot = true;
  private waiting = false;
  private finished = false;
  /** Bumped per attempt; runtime calls from an older attempt's task are refused. */
  private attemptSeq = 0;

  // Per attempt:
  private attemptAbort = new AbortController();
  private interruption: Interruption | null = null;
  private onInterrupt: ((i: Interruption) => void) | null = null;
  private budget: ComputeBudget | null = null;
  private execution: WorkerTaskRunExecution | null = null;
  private log: Logger;

  constructor(
    private readonly deps: RunExecutionDeps,
    dequeued: WorkerDequeuedRun,
  ) {
    this.runId = dequeued.runId;
    this.taskIdentifier = dequeued.taskIdentifier;
    this.snapshotId = dequeued.snapshotId;
    this.heartbeatSnapshotId = dequeued.snapshotId;
    this.log = deps.logger.child({ runId: this.runId, taskId: this.taskIdentifier });
    this.done = this.main();
  }

  /** True while the run is blocked on a waitpoint (it holds no slot then). */
  get isWaiting(): boolean {
    return this.waiting;
  }

  /** Stops the current attempt; the first interruption wins. */
  interrupt(kind: InterruptKind, snapshotId?: string, post = true): void {
    if (this.interruption || this.finished) return;
    this.interruption = { kind, snapshotId: snapshotId ?? this.snapshotId, post };
    this.log.info("attempt interrupted", { reason: kind });
    this.attemptAbort.abort(new AttemptInterruptedError(kind));
    this.onInterrupt?.(this.interruption);
  }

  private async main(): Promise<void> {
    this.startHeartbeat();
    try {
      let snapshotId = this.snapshotId;
      for (;;) {
        let started;
        try {
          started = await this.deps.workerApi.startAttempt(this.runId, snapshotId);
        } catch (error) {
          this.log.warn("could not start the attempt; leaving the run to the server", { error });
          return;
        }
        this.snapshotId = started.snapshotId;
        this.heartbeatSnapshotId = started.snapshotId;
        // One process runs many tasks: the environment's variables are shared by all of them.
        Object.assign(process.env, started.envVars);
        const outcome = await this.executeAttempt(started.execution);
        if (!outcome) return;
        const result = await this.postCompletion(outcome.completion, outcome.snapshotId);
        if (result?.attemptStatus !== "RETRY_IMMEDIATELY") return;
        if (this.deps.forceStopSignal.aborted) {
          // Starting another attempt only to fail it again would burn the run's attempts.
          this.log.warn("server asked for an immediate retry during shutdown; leaving the run to its heartbeat timeout");
          return;
        }

        // The server keeps the run here: wait out the delay on its snapshot, then start the next attempt.
        snapshotId = result.snapshotId;
        this.snapshotId = snapshotId;
        this.heartbeatSnapshotId = snapshotId;
        this.attemptSeq++; // anything the previous attempt's task still does is refused from now on
        this.interruption = null;
        const delay = result.retryAt ? result.retryAt.getTime() - Date.now() : 0;
        if (delay > 0) await sleep(delay, this.deps.forceStopSignal).catch(() => {});
        const cancelled = this.interruption as Interruption | null;
        if (cancelled?.kind === "cancelled") {
          // Cancelled during the delay: acknowledge without starting another attempt.
          if (cancelled.post) await this.postCompletion(interruptionCompletion("cancelled"), cancelled.snapshotId ?? this.snapshotId);
          return;
        }
        this.attemptAbort = new AbortController();
        this.interruption = null;
      }
    } catch (error) {
      this.log.error("run execution failed unexpectedly", { error });
    } finally {
      this.finished = true;
      this.stopHeartbeat();
      this.releaseSlot();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // One attempt

  private async executeAttempt(execution: WorkerTaskRunExecution): Promise<AttemptOutcome> {
    this.execution = execution;
    const attemptNumber = execution.attempt.number;
    this.log = this.deps.logger.child({ runId: this.runId, taskId: execution.task.id, attempt: attemptNumber });
    if (this.deps.forceStopSignal.aborted) this.interrupt("shutdown");
    if (this.interruption) return this.interruptionOutcome(undefined);

    const source = this.deps.tasks.get(execution.task.id) ?? this.deps.tasks.get(this.taskIdentifier);
    if (!source) {
      this.log.error("task not found in this worker");
      return {
        completion: {
          ok: false,
          error: internalError(CODES.taskNotFound, `Task "${execution.task.id}" is not in worker version ${this.deps.worker.version}`),
          skipRetrying: true,
        },
        snapshotId: this.snapshotId,
      };
    }

    let payload: unknown;
    try {
      payload = await this.deps.publicApi.decodePacket(execution.run.payload, execution.run.payloadType);
    } catch (error) {
      this.log.error("could not decode the payload", { error });
      return {
        completion: {
          ok: false,
          error: internalError(CODES.inputError, `Could not decode the payload: ${(error as Error).message}`),
          skipRetrying: true,
        },
        snapshotId: this.snapshotId,
      };
    }

    const metadata = new MetadataStore(
      execution.run.metadata,
      (ops) => this.deps.publicApi.updateMetadata(this.runId, ops),
      (error) => this.log.warn("metadata flush failed; will retry", { error }),
    );
    metadata.startTimer(this.deps.settings.metadataFlushIntervalMs);

    const maxDuration = execution.run.maxDuration ?? source.task.maxDuration;
    const budget = new ComputeBudget(maxDuration ? maxDuration * 1000 : undefined, () => this.interrupt("maxDuration"));
    this.budget = budget;

    const seq = this.attemptSeq;
    const current = () => {
      if (seq !== this.attemptSeq || this.finished) throw new AttemptInterruptedError(this.interruption?.kind ?? "cancelled");
    };
    const ctx = this.buildContext(execution, source, current);
    const owner: RecordOwner = { runId: this.runId, attemptNumber, taskId: execution.task.id };
    const attemptStart = new Date();
    const runtime: RunRuntime = {
      ctx,
      logger: this.deps.taskLogger.child({ runId: this.runId, taskId: execution.task.id, attempt: attemptNumber }),
      metadata,
      api: this.deps.publicApi,
      telemetry: this.deps.exporter ? { exporter: this.deps.exporter, owner } : undefined,
      waitUntil: async (date) => (current(), this.waitUntil(date)),
      waitForToken: async (tokenId, timeout) => (current(), this.waitForToken(tokenId, timeout)),
      waitForServerBlock: async (what) => (current(), this.blockAndWait(what, async () => undefined)),
    };

    this.log.info("attempt started");
    const interrupted = new Promise<Interruption>((resolve) => {
      if (this.interruption) resolve(this.interruption);
      else this.onInterrupt = resolve;
    });
    budget.resume();
    const taskPromise = runWithRuntime(runtime, async () => source.task.run(payload, { ctx, signal: ctx.signal }));
    const result = await Promise.race([
      taskPromise.then(
        (output) => ({ kind: "ok" as const, output }),
        (error: unknown) => ({ kind: "error" as const, error }),
      ),
      interrupted.then((interruption) => ({ kind: "interrupted" as const, interruption })),
    ]);
    budget.stop();
    this.onInterrupt = null;
    const usage = { durationMs: Math.round(budget.usedMs) };

    let completion: WorkerAttemptCompletion;
    let snapshotId = this.snapshotId;
    if (result.kind === "interrupted" || this.interruption) {
      // Also when the task's own promise rejected because we aborted it.
      const outcome = this.interruptionOutcome(maxDuration);
      if (!outcome) {
        await metadata.close().catch(() => {});
        return null;
      }
      completion = outcome.completion;
      snapshotId = outcome.snapshotId;
    } else if (result.kind === "ok") {
      try {
        const packet = await this.deps.publicApi.exportPacket(
          serializePacket(result.output),
          `${execution.run.id}/output-attempt-${execution.attempt.number}`
        );
        completion = { ok: true, outputType: packet.dataType, usage };
        if (packet.data !== undefined) completion.output = packet.data;
      } catch (error) {
        completion = {
          ok: false,
          error: internalError(CODES.outputError, `Could not serialize or upload the output: ${(error as Error).message}`),
          skipRetrying: true,
        };
      }
    } else {
      completion = { ok: false, error: serializeError(result.error), skipRetrying: shouldSkipRetrying(result.error) };
    }
    if (!completion.ok) completion.usage = usage;

    await this.finalFlush(metadata);
    this.log.info(completion.ok ? "attempt succeeded" : "attempt failed", completion.ok ? {} : { error: completion.error });
    await this.exportAttemptSpan(owner, source.task.id, attemptStart, result.kind === "error" ? result.error : undefined);
    return { completion, snapshotId };
  }

  /** The task function's span (with its error and stack), then the attempt's telemetry is sent before completing. */
  private async exportAttemptSpan(owner: RecordOwner, taskId: string, start: Date, error: unknown): Promise<void> {
    const exporter = this.deps.exporter;
    if (!exporter) return;
    const thrown = error === undefined ? undefined : error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : { name: "Error", message: String(error) };
    exporter.span(owner, `${taskId}.run()`, start, new Date(), thrown);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exporter.flush(), new Promise((resolve) => (timer = setTimeout(resolve, 2_000)))]);
    clearTimeout(timer);
  }

  private interruptionOutcome(maxDurationSeconds: number | undefined): AttemptOutcome {
    const interruption = this.interruption!;
    if (!interruption.post) return null;
    return {
      completion: interruptionCompletion(interruption.kind, maxDurationSeconds),
      snapshotId: interruption.snapshotId ?? this.snapshotId,
    };
  }

  private async finalFlush(metadata: MetadataStore): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        metadata.close(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error("timed out")), this.deps.settings.finalFlushTimeoutMs);
        }),
      ]);
    } catch (error) {
      this.log.error("final metadata flush failed; completing anyway", {
        error,
        droppedOperations: metadata.pendingOperations.length,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Sends the completion. On 409 it asks `continue` what happened: a cancel is acknowledged on the
   * server's snapshot; a run still in this attempt (the server moved the snapshot on its own, e.g. when a
   * triggerAndWait blocked it) is completed once more on the latest snapshot; anything else is dropped.
   */
  private async postCompletion(
    completion: WorkerAttemptCompletion,
    snapshotId: string,
    retried = false,
  ): Promise<WorkerCompleteAttemptResponse["result"] | undefined> {
    try {
      const { result } = await this.deps.workerApi.completeAttempt(this.runId, snapshotId, completion);
      this.log.debug("attempt completed", { attemptStatus: result.attemptStatus });
      return result;
    } catch (error) {
      if (!(error instanceof StaleSnapshotError)) {
        this.log.error("could not complete the attempt", { error });
        return undefined;
      }
      if (!retried) {
        const state = await this.deps.workerApi.continueRun(this.runId, snapshotId, 0).catch(() => undefined);
        const isCancelAck = !completion.ok && completion.error.code === CODES.cancelled;
        if (state?.status === "cancelled" && !isCancelAck) {
          this.log.info("run was cancelled; acknowledging instead of completing");
          return this.postCompletion(interruptionCompletion("cancelled"), state.snapshotId, true);
        }
        if (state && (state.status === "waiting" || state.status === "resumed")) {
          return this.postCompletion(completion, error.latestSnapshotId, true);
        }
      }
      this.log.warn("completion refused: the run moved on", { latestSnapshotId: error.latestSnapshotId });
      return undefined;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Context handed to run()

  private buildContext(execution: WorkerTaskRunExecution, source: TaskSource, current: () => void): TaskContext {
    const run = execution.run;
    const ctx: TaskContext = {
      run: {
        id: run.id,
        tags: run.tags,
        isTest: run.isTest,
        createdAt: run.createdAt,
        attemptNumber: execution.attempt.number,
      },
      attempt: { number: execution.attempt.number, startedAt: execution.attempt.startedAt },
      task: { id: execution.task.id, filePath: execution.task.filePath || source.filePath || "" },
      queue: execution.queue,
      environment: execution.environment,
      organization: execution.organization,
      project: execution.project,
      worker: this.deps.worker,
      signal: this.attemptAbort.signal,
      trigger: (taskId, payload, options) => this.deps.publicApi.trigger(taskId, payload, options, this.parentLink(false)),
      triggerAndWait: async (taskId, payload, options) => (current(), this.triggerAndWait(taskId, payload, options)),
      batchTrigger: (taskId, items) =>
        this.deps.publicApi.batchTrigger(
          items.map((i) => ({ task: taskId, ...i })),
          this.parentLink(false),
        ),
      batchTriggerAndWait: async (taskId, items) => (current(), this.batchTriggerAndWait(taskId, items)),
    };
    if (run.startedAt) ctx.run.startedAt = run.startedAt;
    if (run.idempotencyKey) ctx.run.idempotencyKey = run.idempotencyKey;
    if (run.maxAttempts !== undefined) ctx.run.maxAttempts = run.maxAttempts;
    if (run.maxDuration !== undefined) ctx.run.maxDuration = run.maxDuration;
    if (run.concurrencyKey) ctx.run.concurrencyKey = run.concurrencyKey;
    const exportName = execution.task.exportName ?? source.exportName;
    if (exportName) ctx.task.exportName = exportName;
    if (execution.batch) ctx.batch = execution.batch;
    if (source.task.machine) ctx.machine = source.task.machine;
    return ctx;
  }

  private parentLink(resume: boolean): ParentLink {
    const link: ParentLink = { parentRunId: this.runId };
    if (resume) link.resumeParentOnCompletion = true;
    if (this.execution?.run.isTest) link.test = true;
    return link;
  }

  // ---------------------------------------------------------------------------------------------
  // Waits

  private throwIfInterrupted(): void {
    if (this.interruption) throw new AttemptInterruptedError(this.interruption.kind);
  }

  /**
   * Registers a wait with the server (`register` returns the new snapshot id when the route gives one),
   * gives the slot back, long-polls `continue` until the run is resumed, takes a slot again.
   */
  private async blockAndWait(what: string, register: () => Promise<string | undefined>): Promise<WorkerCompletedWaitpoint[]> {
    if (this.waiting) {
      throw new Error(`${what}: a run waits for one thing at a time; await the previous wait first (or use batchTriggerAndWait)`);
    }
    this.throwIfInterrupted();
    this.waiting = true;
    try {
      let newSnapshotId: string | undefined;
      try {
        newSnapshotId = await register();
      } catch (error) {
        if (error instanceof StaleSnapshotError) await this.checkRunState();
        this.throwIfInterrupted();
        throw error;
      }
      if (newSnapshotId) {
        this.snapshotId = newSnapshotId;
        this.heartbeatSnapshotId = newSnapshotId;
      }
      this.budget?.pause();
      this.releaseSlot();
      this.log.debug("waiting", { what });
      const waitpoints = await this.pollContinue();
      await this.acquireSlot();
      this.throwIfInterrupted();
      this.budget?.resume();
      this.log.debug("resumed", { what, waitpoints: waitpoints.length });
      return waitpoints;
    } finally {
      this.waiting = false;
    }
  }

  private async pollContinue(): Promise<WorkerCompletedWaitpoint[]> {
    let failures = 0;
    for (;;) {
      this.throwIfInterrupted();
      let state;
      try {
        state = await this.deps.workerApi.continueRun(
          this.runId,
          this.snapshotId,
          this.deps.settings.continueWaitMs,
          this.attemptAbort.signal,
        );
      } catch (error) {
        this.throwIfInterrupted();
        if (error instanceof ApiError && error.status === 404) {
          this.interrupt("cancelled", undefined, false);
          this.throwIfInterrupted();
        }
        failures++;
        this.log.warn("continue poll failed; retrying", { error, failures });
        await sleep(backoffMs(failures), this.attemptAbort.signal).catch(() => {});
        continue;
      }
      failures = 0;
      if (state.status === "waiting") continue;
      if (state.status === "cancelled") {
        this.interrupt("cancelled", state.snapshotId);
        this.throwIfInterrupted();
      }
      if (state.status === "superseded") {
        // another attempt owns the run now: stop without completing
        this.interrupt("cancelled", undefined, false);
        this.throwIfInterrupted();
      }
      if (state.status === "resumed") {
        this.snapshotId = state.snapshotId;
        this.heartbeatSnapshotId = state.snapshotId;
        return state.completedWaitpoints;
      }
    }
  }

  private async waitUntil(date: Date): Promise<void> {
    const ms = date.getTime() - Date.now();
    if (ms <= 0) return;
    if (ms < this.deps.settings.localWaitThresholdMs) {
      this.throwIfInterrupted();
      try {
        await sleep(ms, this.attemptAbort.signal);
      } catch {
        this.throwIfInterrupted();
      }
      return;
    }
    await this.blockAndWait("wait.until", async () => {
      const res = await this.deps.workerApi.waitForDuration(this.runId, this.snapshotId, date, this.attemptAbort.signal);
      return res.snapshotId;
    });
  }

  private async waitForToken<TOutput>(tokenId: string, timeout?: Date): Promise<WaitTokenResult<TOutput>> {
    const waitpoints = await this.blockAndWait("wait.forToken", async () => {
      const res = await this.deps.workerApi.waitForToken(this.runId, this.snapshotId, tokenId, timeout, this.attemptAbort.signal);
      return res.snapshotId;
    });
    const wp =
      waitpoints.find((w) => w.friendlyId === tokenId || w.id === tokenId) ??
      waitpoints.find((w) => w.type === "MANUAL") ??
      waitpoints[0];
    if (!wp) throw new Error(`Resumed without the result of token ${tokenId}`);
    if (wp.outputIsError) {
      const error = this.waitpointError(wp);
      return { ok: false, id: tokenId, error, unwrap: () => { throw error; } };
    }
    const output = (await this.deps.publicApi.decodePacket(wp.output, wp.outputType)) as TOutput;
    return { ok: true, id: tokenId, output, unwrap: () => output };
  }

  private waitpointError(wp: WorkerCompletedWaitpoint): Error {
    let parsed: unknown;
    try {
      parsed = wp.output ? JSON.parse(wp.output) : undefined;
    } catch {
      return new Error(wp.output ?? "Waitpoint failed");
    }
    const code = (parsed as { code?: unknown })?.code;
    const message = (parsed as { message?: unknown })?.message;
    if (code === "TRIGGER_WAITPOINT_TIMEOUT") return new WaitpointTimeoutError(typeof message === "string" ? message : "Waitpoint timed out");
    const asRunError = WorkerTaskRunError.safeParse(parsed);
    if (asRunError.success) return new TaskRunError(asRunError.data);
    return new Error(typeof message === "string" ? message : (wp.output ?? "Waitpoint failed"));
  }

  private async toRunResult<TOutput>(wp: WorkerCompletedWaitpoint | undefined, runId: string, taskIdentifier: string): Promise<TaskRunResult<TOutput>> {
    if (!wp) {
      const error = new Error(`Resumed without the result of run ${runId}`);
      return { ok: false, id: runId, taskIdentifier, error, unwrap: () => { throw error; } };
    }
    if (wp.outputIsError) {
      const error = this.waitpointError(wp);
      return { ok: false, id: runId, taskIdentifier, error, unwrap: () => { throw error; } };
    }
    try {
      const output = (await this.deps.publicApi.decodePacket(wp.output, wp.outputType)) as TOutput;
      return { ok: true, id: runId, taskIdentifier, output, unwrap: () => output };
    } catch (error) {
      const e = error as Error;
      return { ok: false, id: runId, taskIdentifier, error: e, unwrap: () => { throw e; } };
    }
  }

  private async triggerAndWait<TOutput>(taskId: string, payload: unknown, options?: TriggerOptions): Promise<TaskRunResult<TOutput>> {
    let childId = "";
    const waitpoints = await this.blockAndWait("triggerAndWait", async () => {
      const res = await this.deps.publicApi.trigger(taskId, payload, options, this.parentLink(true));
      childId = res.id;
      return undefined; // the parent's new snapshot is the server's; `continue` reports it
    });
    const runWaitpoints = waitpoints.filter((w) => w.type === "RUN");
    const wp = runWaitpoints.find((w) => w.completedByTaskRunId === childId) ?? runWaitpoints[0] ?? waitpoints[0];
    return this.toRunResult<TOutput>(wp, childId, taskId);
  }

  private async batchTriggerAndWait<TOutput>(taskId: string, items: BatchItem[]): Promise<BatchRunResult<TOutput>> {
    let batchId = "";
    const waitpoints = await this.blockAndWait("batchTriggerAndWait", async () => {
      const res = await this.deps.publicApi.batchTrigger(
        items.map((i) => ({ task: taskId, ...i })),
        this.parentLink(true),
      );
      batchId = res.batchId;
      return undefined;
    });
    const runWaitpoints = waitpoints
      .filter((w) => w.type === "RUN")
      .map((w, position) => ({ w, order: w.index ?? position }))
      .sort((a, b) => a.order - b.order)
      .map(({ w }) => w);
    const runs = await Promise.all(
      runWaitpoints.map((w) => this.toRunResult<TOutput>(w, w.completedByTaskRunId ?? "", taskId)),
    );
    return { id: batchId, runs };
  }

  // ---------------------------------------------------------------------------------------------
  // Slots and heartbeats

  private releaseSlot(): void {
    if (!this.holdsSlot) return;
    this.holdsSlot = false;
    this.deps.gate.release();
  }

  private async acquireSlot(): Promise<void> {
    if (this.holdsSlot) return;
    try {
      await this.deps.gate.acquire({ priority: true, signal: this.attemptAbort.signal });
      this.holdsSlot = true;
    } catch (error) {
      this.throwIfInterrupted();
      throw error;
    }
  }

  private startHeartbeat(): void {
    this.heartbeatTimer = setInterval(() => void this.beat(), this.deps.settings.heartbeatIntervalMs);
    this.heartbeatTimer.unref();
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  private async beat(): Promise<void> {
    if (this.heartbeatInFlight || this.finished) return;
    this.heartbeatInFlight = true;
    const snapshotId = this.heartbeatSnapshotId;
    try {
      await this.deps.workerApi.heartbeat(this.runId, snapshotId);
    } catch (error) {
      if (error instanceof StaleSnapshotError) {
        // The server moved the run on (a triggerAndWait blocked it, or it was cancelled): find out which.
        await this.checkRunState();
        if (!this.interruption && this.heartbeatSnapshotId === snapshotId) {
          this.heartbeatSnapshotId = error.latestSnapshotId;
        }
      } else if (!isAbortError(error)) {
        this.log.warn("heartbeat failed", { error });
      }
    } finally {
      this.heartbeatInFlight = false;
    }
  }

  /** Asks the server whether the run is still ours; interrupts the attempt if it was cancelled. */
  private async checkRunState(): Promise<void> {
    try {
      const state = await this.deps.workerApi.continueRun(this.runId, this.snapshotId, 0);
      if (state.status === "cancelled") this.interrupt("cancelled", state.snapshotId);
      // another attempt owns the run now: stop without completing
      if (state.status === "superseded") this.interrupt("cancelled", undefined, false);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) this.interrupt("cancelled", undefined, false);
    }
  }
}
