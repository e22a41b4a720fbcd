import { z } from "zod";

/**
 * Entry states. QUEUED (waiting, maybe delayed by a backoff) → DRAINING (popped, leased) →
 * DRAINED (the handler succeeded, ack pending) → MATERIALISED (acked; kept for a grace TTL as a read
 * safety net). A failed entry is deleted in the same script that fails it, so FAILED is never read.
 */
export const ENTRY_STATUSES = ["QUEUED", "DRAINING", "DRAINED", "MATERIALISED"] as const;
export type EntryStatus = (typeof ENTRY_STATUSES)[number];

const nonNegativeInt = z
  .string()
  .regex(/^\d+$/)
  .transform((v) => Number(v));

const optionalString = z.string().optional();

const tagsJson = z
  .string()
  .default("[]")
  .transform((raw) => {
    try {
      const parsed: unknown = JSON.parse(raw);
      // Lua's cjson encodes an empty table as `{}`: anything that is not an array means "no tags".
      return Array.isArray(parsed) ? parsed.filter((t): t is string => typeof t === "string") : [];
    } catch {
      return [];
    }
  });

const errorJson = z
  .string()
  .optional()
  .transform((raw) => {
    if (!raw) return undefined;
    try {
      const parsed = z.object({ code: z.string(), message: z.string() }).safeParse(JSON.parse(raw));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  });

/** The entry hash as Redis returns it (every value a string), parsed into a typed entry. */
export const BufferEntrySchema = z
  .object({
    runId: z.string().min(1),
    envId: z.string().min(1),
    orgId: z.string().min(1),
    payload: z.string(),
    status: z.enum(ENTRY_STATUSES),
    attempts: nonNegativeInt,
    createdAt: z.string().refine((v) => !Number.isNaN(Date.parse(v)), "invalid date"),
    createdAtMs: nonNegativeInt.optional(),
    nextAttemptAt: nonNegativeInt.default("0"),
    idempotencyLookupKey: z.string().default(""),
    metadataVersion: nonNegativeInt.default("0"),
    tags: tagsJson,
    leaseId: nonNegativeInt.default("0"),
    leaseUntil: nonNegativeInt.default("0"),
    lastError: errorJson,
    patchedMetadata: optionalString,
    patchedMetadataType: optionalString,
    patchedDelayUntil: optionalString,
    cancelledAt: optionalString,
    cancelReason: optionalString,
    idempotencyCleared: optionalString,
  })
  .transform((raw) => ({
    runId: raw.runId,
    envId: raw.envId,
    orgId: raw.orgId,
    payload: raw.payload,
    status: raw.status,
    materialised: raw.status === "MATERIALISED",
    attempts: raw.attempts,
    createdAt: new Date(raw.createdAt),
    createdAtMs: raw.createdAtMs ?? Date.parse(raw.createdAt),
    /** Earliest pop time after a retry backoff (Redis clock, ms); null when never delayed. */
    nextAttemptAt: raw.nextAttemptAt > 0 ? raw.nextAttemptAt : null,
    idempotencyLookupKey: raw.idempotencyLookupKey,
    metadataVersion: raw.metadataVersion,
    tags: raw.tags,
    /** Fencing token: incremented by every pop. */
    leaseId: raw.leaseId,
    leaseUntil: raw.leaseUntil > 0 ? raw.leaseUntil : null,
    lastError: raw.lastError,
    patch: {
      metadata: raw.patchedMetadata,
      metadataType: raw.patchedMetadataType,
      delayUntil: raw.patchedDelayUntil,
      cancelledAt: raw.cancelledAt,
      cancelReason: raw.cancelReason,
      idempotencyCleared: raw.idempotencyCleared === "1",
    },
  }));

export type BufferEntry = z.output<typeof BufferEntrySchema>;
export type BufferError = { code: string; message: string };

/** HGETALL as a flat `[field, value, …]` array (what Lua returns) or an object (what ioredis returns). */
export function parseEntryHash(raw: string[] | Record<string, string> | null | undefined): BufferEntry | null {
  if (!raw) return null;
  let record: Record<string, string>;
  if (Array.isArray(raw)) {
    record = {};
    for (let i = 0; i + 1 < raw.length; i += 2) record[raw[i]!] = raw[i + 1]!;
  } else {
    record = raw;
  }
  if (Object.keys(record).length === 0) return null;
  const parsed = BufferEntrySchema.safeParse(record);
  return parsed.success ? parsed.data : null;
}

export type Snapshot = Record<string, unknown>;

/**
 * The snapshot as the drainer must replay it: the payload written at accept with the buffered
 * mutations laid over it. Mutations live in their own hash fields so no script ever re-encodes the
 * payload (no cjson number or empty-array rewriting of the caller's data). Throws on a malformed
 * payload.
 */
export function entrySnapshot(entry: BufferEntry): Snapshot {
  const parsed: unknown = JSON.parse(entry.payload);
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new SyntaxError("Buffered snapshot is not a JSON object");
  }
  const snapshot = { ...(parsed as Snapshot) };
  if (entry.tags.length > 0 || "tags" in snapshot) snapshot.tags = [...entry.tags];
  const { patch } = entry;
  if (patch.metadata !== undefined) {
    snapshot.metadata = patch.metadata;
    snapshot.metadataType = patch.metadataType ?? "application/json";
  }
  if (patch.delayUntil !== undefined) snapshot.delayUntil = patch.delayUntil;
  if (patch.cancelledAt !== undefined) {
    snapshot.cancelledAt = patch.cancelledAt;
    if (patch.cancelReason !== undefined) snapshot.cancelReason = patch.cancelReason;
  }
  if (patch.idempotencyCleared) {
    snapshot.idempotencyKey = null;
    snapshot.idempotencyKeyExpiresAt = null;
  }
  return snapshot;
}
