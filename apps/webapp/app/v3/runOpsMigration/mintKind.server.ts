import { classifyIdShape, fromFriendlyId, generateFriendlyId, type MintKind } from "@runplane/core";
import { CrossSeamGuardError } from "@internal/run-store";
import type { RunOpsConfig } from "./config.server";

/** The per-organisation override, in `Organization.featureFlags`: `{ "runOpsMintNewIds": true | false }`. */
export const MINT_NEW_IDS_FLAG = "runOpsMintNewIds";

export type MintKindInput = {
  /** RUN_OPS_SPLIT_ENABLED (after the boot sentinels). Off ⇒ always LEGACY. */
  splitEnabled: boolean;
  /** RUN_OPS_MINT_NEW_IDS: the default for root runs and root batches. */
  mintNewIds: boolean;
  /** `Organization.featureFlags` (any JSON); only `runOpsMintNewIds` is read. */
  orgFeatureFlags?: unknown;
  /** A child run or a batch of a run: inherits the parent's shape. */
  parentFriendlyId?: string | null;
  /** A batch item: inherits the batch's shape. */
  batchFriendlyId?: string | null;
};

export type MintKindReason = "split_off" | "parent" | "batch" | "org_flag" | "env_default";

export type MintKindDecision = { kind: MintKind; reason: MintKindReason };

export type FlagParse = { value: boolean } | { value: undefined; invalid?: unknown };

/**
 * A real boolean parse of a feature-flag value: booleans, the words true/false/1/0/yes/no/on/off
 * (any case, trimmed) and the numbers 1/0. Anything else is "unset", reported as invalid — never
 * truthy ("false" must not turn minting on).
 */
export function parseFlagBoolean(value: unknown): FlagParse {
  if (value === undefined || value === null) return { value: undefined };
  if (typeof value === "boolean") return { value };
  if (typeof value === "number") return value === 1 ? { value: true } : value === 0 ? { value: false } : { value: undefined, invalid: value };
  if (typeof value === "string") {
    const word = value.trim().toLowerCase();
    if (["true", "1", "yes", "on"].includes(word)) return { value: true };
    if (["false", "0", "no", "off"].includes(word)) return { value: false };
  }
  return { value: undefined, invalid: value };
}

/** The org's override, or undefined when it sets none (or sets something that is not a boolean). */
export function orgMintOverride(orgFeatureFlags: unknown, onInvalid?: (value: unknown) => void): boolean | undefined {
  if (orgFeatureFlags === null || typeof orgFeatureFlags !== "object" || Array.isArray(orgFeatureFlags)) return undefined;
  const parsed = parseFlagBoolean((orgFeatureFlags as Record<string, unknown>)[MINT_NEW_IDS_FLAG]);
  if ("invalid" in parsed && parsed.invalid !== undefined) onInvalid?.(parsed.invalid);
  return parsed.value;
}

/**
 * Which id family a new run (or batch) gets, and why. In order:
 *   1. split off ⇒ LEGACY, nothing else is read;
 *   2. an anchor (parent run, batch) ⇒ its shape, so a run tree lives in one database whatever the
 *      flags say now (a flip never splits a tree). A parent and a batch of different shapes are refused;
 *   3. the org's `runOpsMintNewIds` flag when it is a boolean;
 *   4. RUN_OPS_MINT_NEW_IDS.
 * Pure: no I/O.
 */
export function decideRunIdMintKind(input: MintKindInput, options: { onInvalidFlag?: (value: unknown) => void } = {}): MintKindDecision {
  if (!input.splitEnabled) return { kind: "LEGACY", reason: "split_off" };
  const parent = anchorKind(input.parentFriendlyId);
  const batch = anchorKind(input.batchFriendlyId);
  if (parent && batch && parent !== batch) {
    throw new CrossSeamGuardError(
      `Parent run ${input.parentFriendlyId} (${parent}) and batch ${input.batchFriendlyId} (${batch}) live in different databases; ` +
        `a batch item cannot belong to both`,
      422
    );
  }
  if (parent) return { kind: parent, reason: "parent" };
  if (batch) return { kind: batch, reason: "batch" };
  const override = orgMintOverride(input.orgFeatureFlags, options.onInvalidFlag);
  if (override !== undefined) return { kind: override ? "NEW" : "LEGACY", reason: "org_flag" };
  return { kind: input.mintNewIds ? "NEW" : "LEGACY", reason: "env_default" };
}

export function resolveRunIdMintKind(input: MintKindInput, options?: { onInvalidFlag?: (value: unknown) => void }): MintKind {
  return decideRunIdMintKind(input, options).kind;
}

/** The shape of an anchor id (friendly or internal); null when absent. An unknown shape counts as LEGACY. */
function anchorKind(friendlyId: string | null | undefined): MintKind | null {
  if (!friendlyId) return null;
  return classifyIdShape(fromFriendlyId(friendlyId)).residency;
}

/** The mint inputs that come from the server's configuration. */
export function mintSettings(config: Pick<RunOpsConfig, "splitEnabled" | "mintKind">): Pick<MintKindInput, "splitEnabled" | "mintNewIds"> {
  return { splitEnabled: config.splitEnabled, mintNewIds: config.mintKind === "NEW" };
}

/** `run_<id>` of the decided family: what the trigger service passes to the engine as `friendlyId`. */
export function mintRunFriendlyId(input: MintKindInput, options?: { onInvalidFlag?: (value: unknown) => void }): string {
  return generateFriendlyId("run", resolveRunIdMintKind(input, options));
}

/** `batch_<id>`: a batch of a run inherits the run's shape, a root batch follows the org/env setting. */
export function mintBatchFriendlyId(input: Omit<MintKindInput, "batchFriendlyId">, options?: { onInvalidFlag?: (value: unknown) => void }): string {
  return generateFriendlyId("batch", resolveRunIdMintKind(input, options));
}
