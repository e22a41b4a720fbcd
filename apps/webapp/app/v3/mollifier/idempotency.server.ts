import { randomUUID } from "node:crypto";
import { ServiceUnavailableError } from "@runplane/core";
import type { ClaimState, IdempotencyTuple, MollifierBuffer } from "@runplane/redis-worker/mollifier";
import type { MollifierConfig } from "./config.server";
import { errorMessage } from "./gate.server";
import { findBufferedRun } from "./readFallback.server";
import type { MollifierLog } from "./types.server";

export const BUFFER_IDEMPOTENCY_UNAVAILABLE = "Unable to verify buffered idempotency state right now; please retry";

/** Claim lifetime: long enough for the trigger pipeline, never longer than the key itself (floored). */
export function computeClaimTtlSeconds(claim: MollifierConfig["claim"], keyExpiresAt: Date | undefined, now = Date.now()): number {
  if (!keyExpiresAt) return claim.ttlSeconds;
  return Math.min(claim.ttlSeconds, Math.max(claim.minTtlSeconds, Math.ceil((keyExpiresAt.getTime() - now) / 1000)));
}

export type BufferedIdempotencyHit = { runId: string; expired: boolean };

/**
 * The live buffered run holding a key. An expired key (the snapshot's expiry passed) is reset on the
 * buffer side and reported as a miss. Throws ServiceUnavailableError when the buffer cannot be read:
 * guessing "no" could create a second run for the key.
 */
export async function lookupBufferedIdempotency(
  deps: { buffer: MollifierBuffer; logger: MollifierLog },
  tuple: IdempotencyTuple & { organizationId?: string }
): Promise<string | null> {
  try {
    const runId = await deps.buffer.lookupIdempotency(tuple);
    if (!runId) return null;
    const buffered = await findBufferedRun(deps, { runId, environmentId: tuple.envId, organizationId: tuple.organizationId, throwOnError: true });
    if (!buffered) return null;
    const expiresAt = buffered.trigger.idempotencyKeyExpiresAt;
    if (expiresAt && expiresAt.getTime() <= Date.now()) {
      await deps.buffer.resetIdempotency(tuple);
      return null;
    }
    return runId;
  } catch (error) {
    deps.logger.error("mollifier: buffered idempotency lookup failed", { error: errorMessage(error) });
    throw new ServiceUnavailableError(BUFFER_IDEMPOTENCY_UNAVAILABLE);
  }
}

export type ClaimOutcome =
  | { kind: "claimed"; token: string }
  | { kind: "resolved"; runId: string }
  | { kind: "timed_out" };

/**
 * Serialises concurrent triggers of one key before the gate (one may go to the buffer, another to
 * Postgres, and neither store alone would see the other): the first caller claims, the others wait
 * for it to publish the run id. A claim that cannot be taken (Redis error) fails open: the engine's
 * key lock and the buffer's lookup still deduplicate within each store.
 */
export async function claimOrAwait(
  deps: { buffer: MollifierBuffer; logger: MollifierLog },
  input: IdempotencyTuple & { ttlSeconds: number; waitMs: number; pollMs: number; signal?: AbortSignal }
): Promise<ClaimOutcome> {
  const token = randomUUID();
  const claim = async (): Promise<ClaimState> => {
    try {
      return await deps.buffer.claimIdempotency({ ...input, token, ttlSeconds: input.ttlSeconds });
    } catch (error) {
      deps.logger.warn("idempotency claim failed (fail-open)", { error: errorMessage(error) });
      return { kind: "claimed" };
    }
  };
  let state = await claim();
  const deadline = Date.now() + input.waitMs;
  while (state.kind === "pending") {
    if (Date.now() >= deadline || input.signal?.aborted) return { kind: "timed_out" };
    await new Promise((r) => setTimeout(r, input.pollMs));
    let current: ClaimState | null;
    try {
      current = await deps.buffer.readClaim(input);
    } catch (error) {
      deps.logger.warn("idempotency claim read failed mid-poll", { error: errorMessage(error) });
      continue;
    }
    // released or expired: try to take it ourselves
    state = current === null ? await claim() : current;
  }
  return state.kind === "claimed" ? { kind: "claimed", token } : state;
}

export async function publishClaim(
  deps: { buffer: MollifierBuffer; logger: MollifierLog },
  input: IdempotencyTuple & { token: string; runId: string; ttlSeconds: number }
): Promise<void> {
  try {
    if (!(await deps.buffer.publishClaim(input))) deps.logger.warn("mollifier claim publish no-op'd; winner lost the claim mid-pipeline", { runId: input.runId });
  } catch (error) {
    deps.logger.warn("idempotency claim publish failed", { error: errorMessage(error) });
  }
}

export async function releaseClaim(deps: { buffer: MollifierBuffer; logger: MollifierLog }, input: IdempotencyTuple & { token: string }): Promise<void> {
  try {
    await deps.buffer.releaseClaim(input);
  } catch (error) {
    deps.logger.warn("idempotency claim release failed", { error: errorMessage(error) });
  }
}

export type ResetIdempotencyOutcome = { kind: "reset"; pgCount: number; bufferedRunId: string | null } | { kind: "not_found" };

/**
 * Resets a key in both stores. Postgres first (`pgReset` returns how many rows it cleared), then the
 * buffer (lookup, claim and the snapshot's key). Success when either cleared something. When Postgres
 * cleared nothing and the buffer could not be reached, the answer is unknown: 503. When both cleared
 * nothing, Postgres is asked again (a buffered run may have materialised in between).
 */
export async function resetIdempotencyKeyEverywhere(
  deps: { buffer: MollifierBuffer | null; logger: MollifierLog },
  input: IdempotencyTuple & { pgReset: () => Promise<number> }
): Promise<ResetIdempotencyOutcome> {
  const pgCount = await input.pgReset();
  let bufferedRunId: string | null = null;
  let bufferFailed = false;
  if (deps.buffer) {
    try {
      bufferedRunId = (await deps.buffer.resetIdempotency(input)).clearedRunId;
    } catch (error) {
      bufferFailed = true;
      deps.logger.error("mollifier: idempotency reset on the buffer failed", { error: errorMessage(error) });
    }
  }
  if (pgCount > 0 || bufferedRunId) return { kind: "reset", pgCount, bufferedRunId };
  if (bufferFailed) throw new ServiceUnavailableError(BUFFER_IDEMPOTENCY_UNAVAILABLE);
  const again = await input.pgReset();
  return again > 0 ? { kind: "reset", pgCount: again, bufferedRunId: null } : { kind: "not_found" };
}
