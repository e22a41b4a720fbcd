import { CreateCancelledRunConflictError, type RunEngine } from "@internal/run-engine";
import type { RunStore } from "@internal/run-store";
import { isRetryableDrainError, type DrainEntry, type DrainFailure, type TerminalEntry } from "@runplane/redis-worker/mollifier";
import { errorMessage } from "./gate.server";
import { parseBufferedTrigger, safeParseBufferedTrigger, triggerInputForReplay, type ParsedBufferedTrigger } from "./snapshot.server";
import type { MollifierLog } from "./types.server";

export type DrainerHandlerDeps = {
  engine: Pick<RunEngine, "trigger" | "createCancelledRun" | "cancelRun" | "createFailedTaskRun" | "ensureRunQueued">;
  runStore: Pick<RunStore, "findRun">;
  logger: MollifierLog;
};

/**
 * Materialises one buffered trigger, idempotently per run id (a replay may run twice when a drainer
 * died mid-way):
 * - cancelled while buffered → a CANCELED row (`createCancelledRun`); if a live row already holds the
 *   id (an earlier attempt materialised it), that run is cancelled instead;
 * - otherwise `engine.trigger` with the same friendly id; a row that already exists means an earlier
 *   attempt got there, but it may have died between the row and the queue message: the run is
 *   (re)queued if it has none (`engine.ensureRunQueued`), then done.
 * Failures propagate to the drainer, which retries retryable ones after a backoff and hands the rest
 * to `createTerminalFailureHandler`.
 */
export function createDrainerHandler(deps: DrainerHandlerDeps) {
  return async function handleBufferedEntry(entry: DrainEntry): Promise<void> {
    const parsed = parseBufferedTrigger(entry.snapshot);
    if (parsed.cancelledAt) {
      await replayCancelled(deps, parsed, parsed.cancelledAt);
      return;
    }
    await replayTrigger(deps, parsed, entry);
  };
}

async function replayTrigger(deps: DrainerHandlerDeps, parsed: ParsedBufferedTrigger, entry: DrainEntry): Promise<void> {
  const input = triggerInputForReplay(parsed);
  let result;
  try {
    result = await deps.engine.trigger(input);
  } catch (error) {
    if (await runExists(deps, input.friendlyId)) {
      deps.logger.info("mollifier drainer: run already materialised, treating the replay as done", { runId: input.friendlyId });
      await deps.engine.ensureRunQueued(input.friendlyId);
      return;
    }
    throw error;
  }
  if (result.isCached && result.run.friendlyId === input.friendlyId) {
    // An earlier attempt wrote this very run (found by its idempotency key): make sure it was queued.
    await deps.engine.ensureRunQueued(input.friendlyId);
  }
  if (result.run.friendlyId !== input.friendlyId) {
    // Another run took the idempotency key in Postgres while this one waited. The caller was given
    // this id, so it must exist: materialise it without the key.
    deps.logger.warn("mollifier drainer: idempotency key held by another run; materialising without it", {
      runId: input.friendlyId,
      holder: result.run.friendlyId,
    });
    const { idempotencyKey: _k, idempotencyKeyExpiresAt: _e, idempotencyKeyOptions: _o, ...rest } = input;
    try {
      await deps.engine.trigger(rest);
    } catch (error) {
      if (!(await runExists(deps, input.friendlyId))) throw error;
      await deps.engine.ensureRunQueued(input.friendlyId);
    }
  }
  deps.logger.debug("mollifier drainer: materialised", { runId: input.friendlyId, dwellMs: Date.now() - entry.createdAtMs, attempts: entry.attempts });
}

async function replayCancelled(deps: DrainerHandlerDeps, parsed: ParsedBufferedTrigger, cancelledAt: Date): Promise<void> {
  const input = triggerInputForReplay(parsed);
  const reason = parsed.cancelReason ?? "Canceled by user";
  try {
    await deps.engine.createCancelledRun({ snapshot: input, cancelledAt, cancelReason: reason });
  } catch (error) {
    if (!(error instanceof CreateCancelledRunConflictError) && !(error instanceof Error && error.message.startsWith("createCancelledRun conflict"))) throw error;
    // an earlier attempt materialised the run before the cancel landed: honour the cancel on it
    await deps.engine.cancelRun(input.friendlyId, { reason, completedAt: cancelledAt });
  }
}

async function runExists(deps: DrainerHandlerDeps, friendlyId: string): Promise<boolean> {
  try {
    return (await deps.runStore.findRun({ friendlyId }, { id: true })) !== null;
  } catch {
    return false; // the store is unreachable: let the original error decide
  }
}

/**
 * Before the drainer gives up on an entry (non-retryable error, malformed snapshot, attempts
 * exhausted): write a SYSTEM_FAILURE row under the promised id, keeping the batch and parent links so
 * nothing waits forever on a run that never appears. Nothing is written when the run already exists
 * (the replay succeeded and only bookkeeping failed) or the snapshot names no environment. A
 * retryable write error makes the drainer requeue the entry and try again later. Attempts exhausted
 * on retryable errors replay again instead (see below): only a run that cannot be created fails.
 */
export function createTerminalFailureHandler(deps: DrainerHandlerDeps) {
  const replay = createDrainerHandler(deps);
  return async function onTerminalFailure(entry: TerminalEntry, failure: DrainFailure): Promise<void | "materialised"> {
    const parsed = entry.snapshot ? safeParseBufferedTrigger(entry.snapshot) : null;
    if (!parsed) {
      deps.logger.error("mollifier drainer: terminal failure of an unreadable snapshot; no run row written", { runId: entry.runId, ...failure });
      return;
    }
    if (failure.cause === "max-attempts-exhausted") {
      // Retryable errors all along (Postgres unreachable, pool exhausted): an outage is not the run's
      // fault. Replay once more; if the store is still down this throws a retryable error and the
      // drainer requeues with its capped backoff, so entries wait out the outage instead of failing.
      await replay({ ...entry, snapshot: entry.snapshot! });
      return "materialised";
    }
    // throws when the store is unreachable: the drainer then requeues (a retryable error)
    if ((await deps.runStore.findRun({ friendlyId: parsed.friendlyId }, { id: true })) !== null) return;
    const batch = parsed.batch && typeof parsed.batch.id === "string" && typeof parsed.batch.index === "number" ? parsed.batch : undefined;
    await deps.engine.createFailedTaskRun({
      friendlyId: parsed.friendlyId,
      environment: parsed.environment,
      taskIdentifier: parsed.taskIdentifier,
      payload: parsed.payload,
      payloadType: parsed.payloadType,
      error: { type: "STRING_ERROR", raw: `Mollifier drainer terminal failure (${failure.cause}): ${failure.code}: ${failure.message}` },
      parentTaskRunId: parsed.parentRunId,
      rootTaskRunId: parsed.rootTaskRunId,
      depth: typeof parsed.depth === "number" ? parsed.depth : 0,
      resumeParentOnCompletion: parsed.resumeParentOnCompletion === true,
      batch,
      traceId: parsed.traceId,
      spanId: parsed.spanId,
      queue: parsed.queue,
      lockedQueueId: parsed.lockedQueueId,
    });
    deps.logger.error("mollifier drainer: terminal failure, SYSTEM_FAILURE row written", { runId: parsed.friendlyId, ...failure, error: errorMessage(failure.message) });
  };
}

const UNAVAILABLE_MESSAGE =
  /not (yet|currently) accepting connections|terminating connection|connection (is )?(closed|ended)|Client has encountered a connection error|Connection terminated|the database system is (starting up|shutting down|in recovery mode)|Can't reach database|Server has closed the connection|socket hang up|Timed out fetching a new connection/i;

/**
 * The drainer's retry classification for replays: the package's (network codes, Prisma pool and
 * connectivity codes, Postgres connection SQLSTATEs) plus the shapes a database that refuses or drops
 * connections takes through the pg driver adapter (messages, SQLSTATE 55000 "not accepting
 * connections", class 08/57), looked for through `cause` chains.
 */
export function isRetryableReplayError(error: unknown, depth = 0): boolean {
  if (isRetryableDrainError(error)) return true;
  if (!(error instanceof Error) || depth > 4) return false;
  const record = error as Error & { code?: unknown; originalCode?: unknown; cause?: unknown };
  const code = typeof record.originalCode === "string" ? record.originalCode : typeof record.code === "string" ? record.code : "";
  if (code === "55000" || code.startsWith("08") || code.startsWith("57P")) return true;
  if (UNAVAILABLE_MESSAGE.test(error.message)) return true;
  return record.cause !== undefined && isRetryableReplayError(record.cause, depth + 1);
}
