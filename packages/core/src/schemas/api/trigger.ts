/**
 * POST /api/v1/tasks/{taskId}/trigger
 *
 * Body `{ payload?, context?, options? }`. The SDK sends `payload` as a string (SuperJSON with
 * `payloadType: "application/super+json"`, or text with `text/plain`, or a storage path with
 * `application/store`); raw HTTP callers may send any JSON value. Undefined options are omitted.
 *
 * Response `{ id, isCached? }` plus the `x-trigger-jwt` / `x-trigger-jwt-claims` headers.
 */
import { z } from "zod";
import {
  ConcurrencyKey,
  DelayValue,
  IdempotencyKey,
  IdempotencyKeyOptions,
  MachinePresetName,
  RunTags,
  TtlValue,
  omitWhenNull,
} from "./common.js";

export const MAX_TRIGGER_BODY_BYTES = 3 * 1024 * 1024;
export const MAX_METADATA_BYTES = 256 * 1024;

export const PAYLOAD_TYPE = {
  json: "application/json",
  superJson: "application/super+json",
  text: "text/plain",
  /** `payload` is a storage path returned by `PUT /api/v2/packets/…`. */
  store: "application/store",
} as const;

/** Named shared concurrency limits (4.8.x): at most two, each a short identifier. */
export const ConcurrencyLimitNames = z
  .array(
    z
      .string()
      .regex(
        /^[a-zA-Z0-9_-]{1,122}$/,
        "Concurrency limit names are 1-122 letters, digits, underscores or hyphens",
      ),
  )
  .max(2, "At most two concurrency limits");

export const DebounceOptions = z.object({
  key: z.string().max(512),
  delay: z.string(),
  mode: z.enum(["leading", "trailing"]).optional(),
  maxDelay: z.string().optional(),
});
export type DebounceOptions = z.infer<typeof DebounceOptions>;

/** `externalDeploymentId`: `null`, blank and whitespace mean "absent". */
const ExternalDeploymentId = z.preprocess((value) => {
  if (value === null) return undefined;
  if (typeof value !== "string") return value;
  const trimmed = value.trim();
  return trimmed === "" ? undefined : trimmed;
}, z.string().max(256).optional());

/**
 * Options shared by single triggers and batch items. Batch items lack `parentRunId`,
 * `resumeParentOnCompletion` and `parentBatch`; those are set on the batch.
 */
const sharedTriggerOptions = {
  queue: z.object({ name: z.string(), concurrencyLimit: z.number().int().optional() }).optional(),
  concurrency: ConcurrencyLimitNames.optional(),
  concurrencyKey: ConcurrencyKey.optional(),
  delay: DelayValue.optional(),
  ttl: TtlValue.optional(),
  idempotencyKey: IdempotencyKey.optional(),
  /** `^\d+[smhd]$`; anything else falls back to the default lifetime. */
  idempotencyKeyTTL: z.string().optional(),
  idempotencyKeyOptions: IdempotencyKeyOptions.optional(),
  tags: RunTags.optional(),
  metadata: z.unknown().optional(),
  metadataType: z.string().optional(),
  maxAttempts: z.number().int().optional(),
  maxDuration: z.number().optional(),
  machine: MachinePresetName.optional(),
  priority: z.number().optional(),
  region: z.string().optional(),
  lockToVersion: z.string().optional(),
  externalDeploymentId: ExternalDeploymentId,
  payloadType: z.string().optional(),
  /** Byte size of the serialized payload before any offload. */
  payloadSize: z.number().int().nonnegative().optional(),
  /** Set inside a task, copying the parent's `isTest`. */
  test: z.boolean().optional(),
  debounce: DebounceOptions.optional(),
};

export const TriggerTaskOptions = z.object({
  ...sharedTriggerOptions,
  /** Friendly id of the calling run (set inside a task). */
  parentRunId: z.string().optional(),
  /** `true` for `triggerAndWait`: the parent blocks until this run is final. */
  resumeParentOnCompletion: z.boolean().optional(),
  parentBatch: z.string().optional(),
  bulkActionId: z.string().optional(),
});
export type TriggerTaskOptions = z.output<typeof TriggerTaskOptions>;

export const BatchItemTriggerOptions = z.object(sharedTriggerOptions);
export type BatchItemTriggerOptions = z.output<typeof BatchItemTriggerOptions>;

function requireStoragePath(
  value: { payload?: unknown; options?: { payloadType?: string } },
  ctx: z.RefinementCtx,
) {
  if (value.options?.payloadType !== PAYLOAD_TYPE.store) return;
  if (typeof value.payload !== "string" || value.payload.length === 0) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      path: ["payload"],
      message: "payload must be a non-empty storage path when options.payloadType is application/store",
    });
  }
}

export const TriggerTaskRequestBody = z
  .object({
    payload: z.unknown().optional(),
    context: z.unknown().optional(),
    options: TriggerTaskOptions.optional(),
  })
  .superRefine(requireStoragePath);
export type TriggerTaskRequestBody = z.output<typeof TriggerTaskRequestBody>;

export const TriggerTaskResponse = z.object({
  id: z.string(),
  /** Present (true) only when an existing run was returned for the idempotency key or debounce. */
  isCached: omitWhenNull(z.boolean()),
});
export type TriggerTaskResponse = z.input<typeof TriggerTaskResponse>;

/** The path segment: the SDK URI-encodes the task id. */
export function decodeTaskIdFromPath(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * The payload as stored and as the worker will receive it: a string plus its type. The SDK
 * already sends a string; a raw JSON caller's value is serialized as `application/json`.
 */
export function normalizeTriggerPayload(
  payload: unknown,
  payloadType: string | undefined,
): { data: string | undefined; dataType: string } {
  if (payload === undefined) return { data: undefined, dataType: payloadType ?? PAYLOAD_TYPE.json };
  if (typeof payload === "string" && payloadType !== undefined) return { data: payload, dataType: payloadType };
  return { data: JSON.stringify(payload), dataType: PAYLOAD_TYPE.json };
}
