import type { MollifierBuffer } from "@runplane/redis-worker/mollifier";
import { recordMollifierDecision } from "@runplane/redis-worker/mollifier";
import type { MollifierConfig } from "./config.server";
import type { MollifierLog } from "./types.server";

/** `Organization.featureFlags` key of the per-org opt-out. */
export const MOLLIFIER_ORG_FLAG = "mollifierEnabled";

/**
 * The org's flag, default on. A real boolean parse: true/false, "true"/"false", 1/0, "1"/"0", "yes"/"no",
 * "on"/"off" (any case). Anything else keeps the default (reported as `invalid`).
 */
export function parseOrgMollifierFlag(featureFlags: unknown): { enabled: boolean; invalid: boolean } {
  if (featureFlags === null || typeof featureFlags !== "object" || Array.isArray(featureFlags)) return { enabled: true, invalid: false };
  const raw = (featureFlags as Record<string, unknown>)[MOLLIFIER_ORG_FLAG];
  if (raw === undefined || raw === null) return { enabled: true, invalid: false };
  if (typeof raw === "boolean") return { enabled: raw, invalid: false };
  if (raw === 1 || raw === 0) return { enabled: raw === 1, invalid: false };
  if (typeof raw === "string") {
    const word = raw.trim().toLowerCase();
    if (["true", "1", "yes", "on"].includes(word)) return { enabled: true, invalid: false };
    if (["false", "0", "no", "off"].includes(word)) return { enabled: false, invalid: false };
  }
  return { enabled: true, invalid: true };
}

export type TripDecision =
  | { divert: false }
  | { divert: true; reason: "per_env_rate"; count: number; threshold: number; windowMs: number; holdMs: number };

export type TripEvaluator = (envId: string) => Promise<TripDecision>;

/**
 * Counts the trigger against its env's fixed window (one atomic script, shared by every instance) and
 * says whether the env is tripped (over threshold now, or within the hold after it was). Fails open:
 * a Redis error never blocks a trigger, it just goes straight to Postgres.
 */
export function createTripEvaluator(deps: { buffer: MollifierBuffer; config: () => MollifierConfig["trip"]; logger: MollifierLog }): TripEvaluator {
  return async (envId) => {
    const trip = deps.config();
    try {
      const { count, tripped } = await deps.buffer.evaluateTrip(envId, trip);
      if (!tripped) return { divert: false };
      return { divert: true, reason: "per_env_rate", count, threshold: trip.threshold, windowMs: trip.windowMs, holdMs: trip.holdMs };
    } catch (error) {
      deps.logger.error("mollifier trip evaluator: fail-open on error", { error: errorMessage(error) });
      return { divert: false };
    }
  };
}

export type GateInput = {
  envId: string;
  orgId: string;
  taskIdentifier: string;
  orgFeatureFlags: unknown;
  options: {
    debounce?: unknown;
    oneTimeUseToken?: string | null;
    parentRunId?: string | null;
    resumeParentOnCompletion?: boolean | null;
    /** An item of a batch (its BatchTaskRunItem needs a real run row). */
    isBatchItem?: boolean;
  };
};

export type GateDecision =
  | { action: "pass_through"; why: PassThroughReason }
  | { action: "mollify"; decision: Extract<TripDecision, { divert: true }> };

export type PassThroughReason =
  | "disabled"
  | "debounce"
  | "one_time_use_token"
  | "trigger_and_wait"
  | "batch_item"
  | "org_opted_out"
  | "under_threshold";

/**
 * Buffer or not. Bypasses (no counting): debounce, one-time-use tokens, a single triggerAndWait, batch
 * items, the master switch, an org that opted out. Otherwise the trip evaluator decides. Records
 * exactly one decision metric per call (no env or org ids as attributes).
 */
export async function evaluateGate(
  input: GateInput,
  deps: { enabled: () => boolean; evaluateTrip: TripEvaluator; logger: MollifierLog }
): Promise<GateDecision> {
  const flag = parseOrgMollifierFlag(input.orgFeatureFlags);
  if (flag.invalid) deps.logger.warn("mollifier: unreadable org flag, using the default (on)", { orgId: input.orgId });
  const enrolled = flag.enabled;
  const pass = (why: PassThroughReason): GateDecision => {
    recordMollifierDecision("pass_through", { enrolled });
    return { action: "pass_through", why };
  };

  const { options } = input;
  if (!deps.enabled()) return pass("disabled");
  if (options.debounce) return pass("debounce");
  if (options.oneTimeUseToken) return pass("one_time_use_token");
  if (options.parentRunId && options.resumeParentOnCompletion) return pass("trigger_and_wait");
  if (options.isBatchItem) return pass("batch_item");
  if (!enrolled) return pass("org_opted_out");

  let decision: TripDecision;
  try {
    decision = await deps.evaluateTrip(input.envId);
  } catch (error) {
    deps.logger.warn("mollifier.evaluator_failed", { error: errorMessage(error), envId: input.envId });
    decision = { divert: false };
  }
  if (!decision.divert) return pass("under_threshold");

  deps.logger.debug("mollifier.mollified", {
    envId: input.envId,
    orgId: input.orgId,
    taskId: input.taskIdentifier,
    reason: decision.reason,
    count: decision.count,
    threshold: decision.threshold,
    windowMs: decision.windowMs,
    holdMs: decision.holdMs,
  });
  recordMollifierDecision("mollify", { enrolled, reason: decision.reason });
  return { action: "mollify", decision };
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
