import type { TriggerInput } from "@internal/run-engine";
import { z } from "zod";

/**
 * A buffered trigger: the engine trigger input exactly as the trigger service built it (friendly id
 * minted), stored as JSON. Dates travel as ISO strings and are revived on the way out; buffered
 * cancels add `cancelledAt` / `cancelReason`.
 */
export type BufferedTrigger = TriggerInput & { friendlyId: string };

const isoDate = z.union([z.string(), z.number(), z.date()]).pipe(z.coerce.date()).refine((d) => !Number.isNaN(d.getTime()), "invalid date");
const optionalDate = z.preprocess((v) => (v === null ? undefined : v), isoDate.optional());

const EnvironmentSnapshot = z
  .object({
    id: z.string().min(1),
    type: z.enum(["PRODUCTION", "STAGING", "DEVELOPMENT", "PREVIEW"]),
    projectId: z.string().min(1),
    organizationId: z.string().min(1),
    slug: z.string().optional(),
  })
  .passthrough();

/** Parses a snapshot read from the buffer; unknown keys are kept (they are engine input fields). */
export const BufferedTriggerSchema = z
  .object({
    friendlyId: z.string().regex(/^run_.+/),
    taskIdentifier: z.string().min(1),
    environment: EnvironmentSnapshot,
    payload: z.preprocess((v) => (v === null || v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v)), z.string()),
    delayUntil: optionalDate,
    idempotencyKeyExpiresAt: optionalDate,
    queueTimestamp: optionalDate,
    createdAt: optionalDate,
    // cjson-style `{}` (or anything not an array) means no tags
    tags: z.preprocess((v) => (Array.isArray(v) ? v.filter((t) => typeof t === "string") : undefined), z.array(z.string()).optional()),
    idempotencyKey: z.preprocess((v) => (v === null ? undefined : v), z.string().optional()),
    cancelledAt: optionalDate,
    cancelReason: z.string().optional(),
  })
  .passthrough();

export type ParsedBufferedTrigger = BufferedTrigger & { cancelledAt?: Date; cancelReason?: string };

export function parseBufferedTrigger(snapshot: unknown): ParsedBufferedTrigger {
  return BufferedTriggerSchema.parse(snapshot) as unknown as ParsedBufferedTrigger;
}

export function safeParseBufferedTrigger(snapshot: unknown): ParsedBufferedTrigger | null {
  const parsed = BufferedTriggerSchema.safeParse(snapshot);
  return parsed.success ? (parsed.data as unknown as ParsedBufferedTrigger) : null;
}

/**
 * The JSON-safe snapshot of a trigger input: undefined keys dropped, Dates as ISO strings, the
 * environment reduced to what a replay and a synthetic run need.
 */
export function serialiseTrigger(input: BufferedTrigger): Record<string, unknown> {
  const env = input.environment;
  const environment = { id: env.id, type: env.type, projectId: env.projectId, organizationId: env.organizationId, ...(env.slug ? { slug: env.slug } : {}) };
  return JSON.parse(JSON.stringify({ ...input, environment })) as Record<string, unknown>;
}

/** The engine input to replay (buffer-only fields removed). */
export function triggerInputForReplay(parsed: ParsedBufferedTrigger): BufferedTrigger {
  const { cancelledAt: _c, cancelReason: _r, ...input } = parsed as ParsedBufferedTrigger & Record<string, unknown>;
  if (!input.idempotencyKey) {
    // the key was reset while buffered: the run keeps none of it
    delete input.idempotencyKey;
    delete input.idempotencyKeyExpiresAt;
    delete input.idempotencyKeyOptions;
  }
  return input as unknown as BufferedTrigger;
}
