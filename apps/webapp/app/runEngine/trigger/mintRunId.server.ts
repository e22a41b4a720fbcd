import { classifyResidency, deriveFriendlyId, generateFriendlyId, type MintKind } from "@runplane/core";

/**
 * Step 3 of a trigger: the run's friendly id, minted before anything is written so a diverted
 * trigger already has its final id.
 * - A batch item's id is derived from the batch id and its index: a resent item gets the same id,
 *   and the database refuses the duplicate.
 * - A child inherits its parent's id family (its rows live beside the parent's).
 * - Otherwise the configured mint kind (RUN_OPS_MINT_NEW_IDS).
 */
export function mintRunFriendlyId(input: {
  mintKind: MintKind;
  parentRunFriendlyId?: string;
  batchItem?: { batchFriendlyId: string; index: number };
}): string {
  if (input.batchItem) return deriveFriendlyId("run", input.batchItem.batchFriendlyId, `item:${input.batchItem.index}`);
  if (input.parentRunFriendlyId) return generateFriendlyId("run", classifyResidency(input.parentRunFriendlyId));
  return generateFriendlyId("run", input.mintKind);
}

/** A batch's friendly id: the parent's id family, else the configured mint kind. */
export function mintBatchFriendlyId(input: { mintKind: MintKind; parentRunFriendlyId?: string }): string {
  return generateFriendlyId("batch", input.parentRunFriendlyId ? classifyResidency(input.parentRunFriendlyId) : input.mintKind);
}
