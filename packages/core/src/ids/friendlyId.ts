import { deriveCuid, generateCuid, isCuid } from "./cuid.js";
import { deriveKsuid, generateKsuid, isKsuid } from "./ksuid.js";

export const ENTITY_PREFIXES = [
  "run",
  "snapshot",
  "waitpoint",
  "batch",
  "checkpoint",
  "worker",
  "queue",
  "attempt",
  "token",
  "proj",
  "env",
  "sched",
  "bulk",
] as const;
export type EntityPrefix = (typeof ENTITY_PREFIXES)[number];

/** Which id family to mint: LEGACY = cuid (control-plane database), NEW = ksuid (run-ops database). */
export type MintKind = "LEGACY" | "NEW";

export function generateInternalId(kind: MintKind = "LEGACY"): string {
  return kind === "NEW" ? generateKsuid() : generateCuid();
}

export function toFriendlyId(entity: EntityPrefix, internalId: string): string {
  return `${entity}_${internalId}`;
}

export function generateFriendlyId(entity: EntityPrefix, kind: MintKind = "LEGACY"): string {
  return toFriendlyId(entity, generateInternalId(kind));
}

/** Strips a known `<entity>_` prefix; ids without one come back unchanged. */
export function stripFriendlyPrefix(id: string): string {
  const underscore = id.indexOf("_");
  if (underscore <= 0) return id;
  const prefix = id.slice(0, underscore);
  return (ENTITY_PREFIXES as readonly string[]).includes(prefix) ? id.slice(underscore + 1) : id;
}

/** Internal id from a friendly id; an internal id passes through. */
export function fromFriendlyId(id: string, expected?: EntityPrefix): string {
  if (expected && id.startsWith(`${expected}_`)) return id.slice(expected.length + 1);
  return stripFriendlyPrefix(id);
}

/**
 * A deterministic id of the same family (and so the same residency) as `seedFriendlyId`, e.g. the
 * run of item 3 of a batch: `deriveFriendlyId("run", batch.friendlyId, "3")`. Retrying the same
 * derivation yields the same id, so a unique index turns a duplicate write into a no-op.
 */
export function deriveFriendlyId(entity: EntityPrefix, seedFriendlyId: string, salt: string): string {
  const seed = stripFriendlyPrefix(seedFriendlyId);
  if (isKsuid(seed)) return toFriendlyId(entity, deriveKsuid(seed, salt));
  if (isCuid(seed)) return toFriendlyId(entity, deriveCuid(seed, salt));
  throw new Error(`Cannot derive an id from ${seedFriendlyId}: unknown id shape`);
}
