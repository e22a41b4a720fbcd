import type { TriggerInput } from "@internal/run-engine";
import type { RunStore } from "@internal/run-store";
import { ServiceUnavailableError, type MintKind } from "@runplane/core";
import type { MollifierBuffer } from "@runplane/redis-worker/mollifier";
import type { MollifierConfig } from "./config.server";
import { evaluateGate, parseOrgMollifierFlag, type GateDecision, type TripEvaluator } from "./gate.server";
import { claimOrAwait, computeClaimTtlSeconds, lookupBufferedIdempotency, publishClaim, releaseClaim } from "./idempotency.server";
import { mollifyTrigger, type MollifiedTriggerResult } from "./mollify.server";
import { waitForMaterialisation } from "./mutateWithFallback.server";
import type { MollifierLog } from "./types.server";

export type TriggerPathDeps = {
  buffer: MollifierBuffer;
  config: MollifierConfig;
  runStore: Pick<RunStore, "findRun">;
  evaluateTrip: TripEvaluator;
  mintKind: MintKind;
  logger: MollifierLog;
};

export type TriggerPathInput = {
  /** The engine input, fully built (validated, idempotency resolved in Postgres, queue, tags, …). */
  trigger: TriggerInput;
  /** The environment's org feature flags (per-org opt-out). */
  orgFeatureFlags: unknown;
  options: {
    debounce?: unknown;
    oneTimeUseToken?: string | null;
    resumeParentOnCompletion?: boolean | null;
    isBatchItem?: boolean;
  };
};

export type TriggerPathHooks<R> = {
  /** `engine.trigger` (and whatever the service does with its result), run here. */
  next: () => Promise<R>;
  /**
   * Not diverted, and nothing to do after the engine call: the caller may answer "not handled" and
   * call the engine itself. Default: `next`.
   */
  passThrough?: () => Promise<R>;
  /** Last changes to the input before it is buffered (e.g. the real root of a child). */
  beforeBuffer?: (trigger: TriggerInput) => Promise<TriggerInput>;
  /** The run id of a pass-through result (to publish an idempotency claim). */
  runIdOf: (result: R) => string;
  /** The response of a buffered (or buffered-cached) trigger. */
  buffered: (result: MollifiedTriggerResult) => R | Promise<R>;
};

/**
 * The trigger path's mollifier step, between the Postgres idempotency check and `engine.trigger`:
 * 1. a key held by a live buffered run → that run (cached); a triggerAndWait waits for it to land and
 *    passes through (its parent needs a real row to block on);
 * 2. keyed triggers of enrolled orgs claim the key (cross-store serialisation) and publish the run id;
 * 3. the gate: buffered → synthetic `{ id, isCached:false }`; else pass through.
 */
export async function triggerWithMollifier<R>(deps: TriggerPathDeps, input: TriggerPathInput, hooks: TriggerPathHooks<R>): Promise<R> {
  const { options } = input;
  let trigger = input.trigger;
  const passThrough = hooks.passThrough ?? hooks.next;
  const mollify = async (decision: Extract<GateDecision, { action: "mollify" }>) => {
    if (hooks.beforeBuffer) trigger = await hooks.beforeBuffer(trigger);
    return mollifyTrigger(deps, { trigger, decision: decision.decision });
  };
  const env = trigger.environment;
  const bypass = !deps.config.enabled || options.isBatchItem === true || Boolean(options.debounce) || Boolean(options.oneTimeUseToken);
  const enrolled = parseOrgMollifierFlag(input.orgFeatureFlags).enabled;
  const gate = (): Promise<GateDecision> =>
    evaluateGate(
      {
        envId: env.id,
        orgId: env.organizationId,
        taskIdentifier: trigger.taskIdentifier,
        orgFeatureFlags: input.orgFeatureFlags,
        options: { ...options, parentRunId: trigger.parentRunId },
      },
      { enabled: () => deps.config.enabled, evaluateTrip: deps.evaluateTrip, logger: deps.logger }
    );

  const key = trigger.idempotencyKey;
  if (bypass || !enrolled || !key) {
    const decision = await gate();
    return decision.action === "mollify" ? hooks.buffered(await mollify(decision)) : passThrough();
  }

  const tuple = { envId: env.id, taskIdentifier: trigger.taskIdentifier, idempotencyKey: key };
  const held = await lookupBufferedIdempotency(deps, { ...tuple, organizationId: env.organizationId });
  if (held) {
    if (!options.resumeParentOnCompletion) return hooks.buffered({ id: held, isCached: true, isMollified: true });
    // the engine finds the row by key once it exists, and blocks the parent on it
    if (!(await waitForMaterialisation(deps, { runId: held, environmentId: env.id, timeoutMs: deps.config.mutateSafetyNetMs }))) {
      throw new ServiceUnavailableError("The run holding this idempotency key is still being created; please retry");
    }
    return passThrough();
  }
  if (options.resumeParentOnCompletion) return passThrough();

  const claim = await claimOrAwait(deps, {
    ...tuple,
    ttlSeconds: computeClaimTtlSeconds(deps.config.claim, trigger.idempotencyKeyExpiresAt),
    waitMs: deps.config.claim.waitMs,
    pollMs: deps.config.claim.pollMs,
  });
  if (claim.kind === "timed_out") throw new ServiceUnavailableError("Idempotency claim resolution timed out");
  if (claim.kind === "resolved") {
    // the winner published its run: a row (the engine returns it, cached) or a buffered entry
    const buffered = await lookupBufferedIdempotency(deps, { ...tuple, organizationId: env.organizationId });
    if (buffered) return hooks.buffered({ id: buffered, isCached: true, isMollified: true });
    return passThrough();
  }

  try {
    const decision = await gate();
    let result: R;
    let runId: string;
    if (decision.action === "mollify") {
      const mollified = await mollify(decision);
      runId = mollified.id;
      result = await hooks.buffered(mollified);
    } else {
      result = await hooks.next();
      runId = hooks.runIdOf(result);
    }
    await publishClaim(deps, { ...tuple, token: claim.token, runId, ttlSeconds: deps.config.claim.ttlSeconds });
    return result;
  } catch (error) {
    await releaseClaim(deps, { ...tuple, token: claim.token });
    throw error;
  }
}
