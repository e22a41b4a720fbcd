import type { RunStore, TaskRun } from "@internal/run-store";
import { ServiceUnavailableError } from "@runplane/core";
import type { MollifierBuffer, MutateSnapshotResult, SnapshotPatch } from "@runplane/redis-worker/mollifier";
import { errorMessage } from "./gate.server";
import { findBufferedRun, runFriendlyIdOf, type BufferedRun } from "./readFallback.server";
import type { MollifierLog } from "./types.server";

export type MutationDeps = {
  runStore: Pick<RunStore, "findRun">;
  buffer: MollifierBuffer | null;
  logger: MollifierLog;
};

export type MutateOutcome<T> =
  | { kind: "pg"; result: T }
  | { kind: "snapshot"; result: T }
  | { kind: "rejected"; result: T }
  | { kind: "not_found" }
  | { kind: "timed_out" };

export type MutateWithFallbackInput<T> = {
  runId: string;
  environmentId: string;
  organizationId?: string;
  /** The mutation when the run has a row. */
  pgMutation: (row: TaskRun) => Promise<T>;
  /**
   * The patch for a waiting buffered run, given its pre-mutation state; return `{ reject }` to refuse
   * (e.g. rescheduling a run that has no delay).
   */
  bufferPatch: (buffered: BufferedRun) => SnapshotPatch | { reject: T };
  /** The response after the patch landed (given the pre-mutation run and the script's reply). */
  synthesisedResponse: (buffered: BufferedRun, reply: Extract<MutateSnapshotResult, { kind: "applied_to_snapshot" }>) => T | Promise<T>;
  /** The response when the patch was refused (tag limit). Required for patches that can be. */
  rejectedResponse?: (buffered: BufferedRun, reply: Extract<MutateSnapshotResult, { kind: "limit_exceeded" }>) => T;
  /** How long to wait for an entry that is being drained. Default 2000 ms. */
  safetyNetMs?: number;
  pollStepMs?: number;
  maxPollStepMs?: number;
  backoffFactor?: number;
  random?: () => number;
  signal?: AbortSignal;
};

export const BUFFER_UNAVAILABLE_MESSAGE = "Unable to check buffered runs right now; please retry";

/**
 * One mutation on a run wherever it lives. Postgres first; on a miss, a patch of the buffered
 * snapshot (atomic, per run). When the entry is being drained the patch cannot land, so this waits —
 * bounded — watching the entry: once it is materialised (or gone) the row is mutated in Postgres;
 * if it went back to the queue (a failed replay) the patch is tried again. A buffer entry of another
 * environment is "not found". A Redis error is a 503, never a silent miss.
 */
export async function mutateWithFallback<T>(deps: MutationDeps, input: MutateWithFallbackInput<T>): Promise<MutateOutcome<T>> {
  const friendlyId = runFriendlyIdOf(input.runId);
  const readPg = () => deps.runStore.findRun({ friendlyId, environmentId: input.environmentId });
  const pgOrNotFound = async (): Promise<MutateOutcome<T>> => {
    const row = await readPg();
    return row ? { kind: "pg", result: await input.pgMutation(row) } : { kind: "not_found" };
  };

  const row = await readPg();
  if (row) return { kind: "pg", result: await input.pgMutation(row) };
  if (!deps.buffer) return pgOrNotFound();

  const safetyNetMs = input.safetyNetMs ?? 2_000;
  const random = input.random ?? Math.random;
  const maxStep = input.maxPollStepMs ?? 250;
  const factor = input.backoffFactor ?? 1.7;
  const deadline = Date.now() + safetyNetMs;
  let step = input.pollStepMs ?? 20;

  for (;;) {
    const buffered = await bufferCall(deps, () =>
      findBufferedRun(deps, { runId: friendlyId, environmentId: input.environmentId, organizationId: input.organizationId, throwOnError: true })
    );
    if (!buffered) return pgOrNotFound();
    if (buffered.entry.status === "QUEUED") {
      const patch = input.bufferPatch(buffered);
      if ("reject" in patch) return { kind: "rejected", result: patch.reject };
      const reply = await bufferCall(deps, () => deps.buffer!.mutateSnapshot(friendlyId, patch));
      switch (reply.kind) {
        case "applied_to_snapshot":
          return { kind: "snapshot", result: await input.synthesisedResponse(buffered, reply) };
        case "limit_exceeded":
          if (!input.rejectedResponse) throw new Error("mutateWithFallback: the patch was refused but no rejectedResponse was given");
          return { kind: "rejected", result: input.rejectedResponse(buffered, reply) };
        case "not_found":
          return pgOrNotFound();
        case "busy":
          break; // popped between the read and the patch: wait below
      }
    } else if (buffered.entry.materialised) {
      return pgOrNotFound();
    }
    // DRAINING / DRAINED: the drainer writes the row before it acks, so watch the entry
    if (Date.now() >= deadline || input.signal?.aborted) {
      deps.logger.warn("mollifier mutate-with-fallback: drainer resolution timed out", { runId: friendlyId, safetyNetMs });
      return { kind: "timed_out" };
    }
    await sleep(Math.min(step + Math.floor(random() * step), Math.max(0, deadline - Date.now())));
    step = Math.min(Math.ceil(step * factor), maxStep);
  }
}

async function bufferCall<R>(deps: MutationDeps, call: () => Promise<R>): Promise<R> {
  try {
    return await call();
  } catch (error) {
    deps.logger.error("mollifier: buffer unavailable during a mutation", { error: errorMessage(error) });
    throw new ServiceUnavailableError(BUFFER_UNAVAILABLE_MESSAGE);
  }
}

export type ResolvedRunForMutation =
  | { source: "pg"; friendlyId: string; taskIdentifier: string; run: TaskRun }
  | { source: "buffer"; friendlyId: string; taskIdentifier: string; buffered: BufferedRun };

/**
 * Where a run to mutate lives, for authorisation before the mutation (the task identifier feeds
 * JWT scopes): Postgres, else a buffered entry of the same env (and org), else Postgres once more
 * (the drain may have landed in between). Null: not found.
 */
export async function resolveRunForMutation(
  deps: MutationDeps,
  input: { runId: string; environmentId: string; organizationId?: string }
): Promise<ResolvedRunForMutation | null> {
  const friendlyId = runFriendlyIdOf(input.runId);
  const row = await deps.runStore.findRun({ friendlyId, environmentId: input.environmentId });
  if (row) return { source: "pg", friendlyId, taskIdentifier: row.taskIdentifier, run: row };
  const buffered = await findBufferedRun(deps, { ...input, runId: friendlyId });
  if (buffered && !buffered.entry.materialised) {
    return { source: "buffer", friendlyId, taskIdentifier: buffered.trigger.taskIdentifier, buffered };
  }
  const again = await deps.runStore.findRun({ friendlyId, environmentId: input.environmentId });
  if (again) return { source: "pg", friendlyId, taskIdentifier: again.taskIdentifier, run: again };
  return null;
}

/** Waits (bounded) until a buffered run has a row; true when it does. */
export async function waitForMaterialisation(
  deps: MutationDeps,
  input: { runId: string; environmentId: string; timeoutMs: number; pollMs?: number }
): Promise<boolean> {
  const friendlyId = runFriendlyIdOf(input.runId);
  const deadline = Date.now() + input.timeoutMs;
  let step = input.pollMs ?? 20;
  for (;;) {
    if (await deps.runStore.findRun({ friendlyId, environmentId: input.environmentId }, { id: true })) return true;
    if (Date.now() >= deadline) return false;
    await sleep(Math.min(step, Math.max(0, deadline - Date.now())));
    step = Math.min(Math.ceil(step * 1.7), 250);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
