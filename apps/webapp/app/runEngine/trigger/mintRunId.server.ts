import { deriveFriendlyId, generateFriendlyId } from "@runplane/core";
import type { RunOpsConfig } from "~/v3/runOpsMigration/config.server";
import { mintSettings, resolveRunIdMintKind } from "~/v3/runOpsMigration/mintKind.server";

/** What decides a new id's family: the server's split settings and the org's `runOpsMintNewIds` override. */
export type MintContext = {
  runOps: Pick<RunOpsConfig, "splitEnabled" | "mintKind">;
  /** `Organization.featureFlags`; only `runOpsMintNewIds` is read. */
  orgFeatureFlags?: unknown;
};

/**
 * Step 3 of a trigger: the run's friendly id, minted before anything is written so a diverted
 * trigger already has its final id.
 * - A batch item's id is derived from the batch id and its index: a resent item gets the same id
 *   (and keeps the batch's id family), and the database refuses the duplicate.
 * - A child inherits its parent's id family, so a run tree lives in one database.
 * - Otherwise the org override, else RUN_OPS_MINT_NEW_IDS (always cuid with split off).
 */
export function mintRunFriendlyId(
  input: MintContext & { parentRunFriendlyId?: string; batchItem?: { batchFriendlyId: string; index: number } }
): string {
  if (input.batchItem) return deriveFriendlyId("run", input.batchItem.batchFriendlyId, `item:${input.batchItem.index}`);
  const kind = resolveRunIdMintKind({
    ...mintSettings(input.runOps),
    orgFeatureFlags: input.orgFeatureFlags,
    parentFriendlyId: input.parentRunFriendlyId,
  });
  return generateFriendlyId("run", kind);
}

/** A batch's friendly id: the parent's id family, else the org override or the configured kind. */
export function mintBatchFriendlyId(input: MintContext & { parentRunFriendlyId?: string }): string {
  const kind = resolveRunIdMintKind({
    ...mintSettings(input.runOps),
    orgFeatureFlags: input.orgFeatureFlags,
    parentFriendlyId: input.parentRunFriendlyId,
  });
  return generateFriendlyId("batch", kind);
}
