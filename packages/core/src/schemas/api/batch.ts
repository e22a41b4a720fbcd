/**
 * Batches. The 4.8.3 client triggers every batch in two phases:
 *
 * 1. POST /api/v3/batches with {@link CreateBatchRequestBody} → 202 {@link CreateBatchResponse}
 *    plus the JWT headers. `isCached: true` makes the client skip phase 2.
 * 2. POST /api/v3/batches/{id}/items with an NDJSON body (`Content-Type: application/x-ndjson`),
 *    one {@link BatchItemNDJSON} per `\n`-terminated line → {@link StreamBatchItemsResponse}.
 *    `sealed: false` makes the client resend the whole stream (up to 5 attempts), so items are
 *    deduplicated by `index`.
 *
 * Reading: GET /api/v2/batches/{id} → {@link RetrieveBatchV2Response}.
 */
import { z } from "zod";
import { BatchStatus } from "../runStatus.js";
import { IdempotencyKey, IdempotencyKeyOptions, TaskRunError, WireDate, omitWhenNull } from "./common.js";
import { formatZodIssues } from "./errors.js";
import { BatchItemTriggerOptions } from "./trigger.js";
import { NUL_IN_BODY, parsedJsonHasNul } from "./nulCharacters.js";

export const MAX_BATCH_RUN_COUNT = 1000;
export const MAX_NDJSON_LINE_BYTES = 3 * 1024 * 1024;
export const NDJSON_CONTENT_TYPES = ["application/x-ndjson", "application/ndjson"] as const;

export const CreateBatchRequestBody = z.object({
  runCount: z.number().int().positive(),
  /** Distinct task ids the stream will carry (used for JWT scope checks before any item arrives). */
  taskIdentifiers: z.array(z.string().min(1)).min(1).optional(),
  parentRunId: z.string().optional(),
  resumeParentOnCompletion: z.boolean().optional(),
  idempotencyKey: IdempotencyKey.optional(),
  idempotencyKeyOptions: IdempotencyKeyOptions.optional(),
});
export type CreateBatchRequestBody = z.output<typeof CreateBatchRequestBody>;

/** Sent with status 202. `isCached` is required by the client. */
export const CreateBatchResponse = z.object({
  id: z.string(),
  runCount: z.number().int(),
  isCached: z.boolean(),
  idempotencyKey: omitWhenNull(z.string()),
});
export type CreateBatchResponse = z.input<typeof CreateBatchResponse>;

export const BatchItemNDJSON = z.object({
  index: z.number().int().nonnegative(),
  task: z.string().min(1),
  /** The SDK sends a string (serialized packet); raw callers may send any JSON. */
  payload: z.unknown().optional(),
  options: BatchItemTriggerOptions.optional(),
});
export type BatchItemNDJSON = z.output<typeof BatchItemNDJSON>;

export type ParsedBatchItemLine =
  | { ok: true; item: BatchItemNDJSON }
  | { ok: false; error: string };

/**
 * One NDJSON line → a validated item, or an error naming the line and field. Blank lines are the
 * caller's to skip; a line over {@link MAX_NDJSON_LINE_BYTES} is rejected before parsing.
 */
export function parseBatchItemLine(line: string, lineNumber: number): ParsedBatchItemLine {
  if (Buffer.byteLength(line, "utf8") > MAX_NDJSON_LINE_BYTES) {
    return { ok: false, error: `line ${lineNumber}: item exceeds ${MAX_NDJSON_LINE_BYTES} bytes` };
  }
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return { ok: false, error: `line ${lineNumber}: invalid JSON` };
  }
  if (parsedJsonHasNul(line, json)) return { ok: false, error: `line ${lineNumber}: ${NUL_IN_BODY}` };
  const parsed = BatchItemNDJSON.safeParse(json);
  if (!parsed.success) return { ok: false, error: `line ${lineNumber}: ${formatZodIssues(parsed.error)}` };
  return { ok: true, item: parsed.data };
}

export const StreamBatchItemsResponse = z.object({
  id: z.string(),
  itemsAccepted: z.number().int().nonnegative(),
  itemsDeduplicated: z.number().int().nonnegative(),
  sealed: z.boolean(),
  /** Only when `sealed` is false: how many items the server holds… */
  enqueuedCount: omitWhenNull(z.number().int()),
  /** …and how many it expects (`runCount`). */
  expectedCount: omitWhenNull(z.number().int()),
});
export type StreamBatchItemsResponse = z.input<typeof StreamBatchItemsResponse>;

export const BatchProcessingError = z.object({
  index: z.number().int(),
  taskIdentifier: z.string(),
  error: z.string(),
  errorCode: omitWhenNull(z.string()),
});

export const RetrieveBatchV2Response = z.object({
  id: z.string(),
  status: BatchStatus,
  idempotencyKey: omitWhenNull(z.string()),
  createdAt: WireDate,
  updatedAt: WireDate,
  runCount: z.number().int(),
  /** Friendly run ids in item-index order. */
  runs: z.array(z.string()),
  /** Required by the client, even when empty. */
  processing: z.object({
    completedAt: omitWhenNull(WireDate),
    errors: z.array(BatchProcessingError),
  }),
});
export type RetrieveBatchV2Response = z.input<typeof RetrieveBatchV2Response>;

// ---------------------------------------------------------------------------------------------
// GET /api/v1/batches/{id}/results (defined in the client, called by no public 4.8.3 function)
// and GET /api/v1/runs/{id}/result (same)
// ---------------------------------------------------------------------------------------------

const FlushedMetadataPacket = z.object({ data: z.string().optional(), dataType: z.string() });

export const TaskRunSuccessfulExecutionResult = z.object({
  ok: z.literal(true),
  id: z.string(),
  output: omitWhenNull(z.string()),
  outputType: z.string(),
  usage: omitWhenNull(z.object({ durationMs: z.number() })),
  taskIdentifier: omitWhenNull(z.string()),
  flushedMetadata: omitWhenNull(FlushedMetadataPacket),
});
export const TaskRunFailedExecutionResult = z.object({
  ok: z.literal(false),
  id: z.string(),
  error: TaskRunError,
  retry: omitWhenNull(z.object({ timestamp: z.number(), delay: z.number(), error: z.unknown().optional() })),
  skippedRetrying: omitWhenNull(z.boolean()),
  usage: omitWhenNull(z.object({ durationMs: z.number() })),
  taskIdentifier: omitWhenNull(z.string()),
  flushedMetadata: omitWhenNull(FlushedMetadataPacket),
});
export const TaskRunExecutionResult = z.discriminatedUnion("ok", [
  TaskRunSuccessfulExecutionResult,
  TaskRunFailedExecutionResult,
]);
export type TaskRunExecutionResult = z.input<typeof TaskRunExecutionResult>;

export const BatchTaskRunExecutionResult = z.object({
  id: z.string(),
  items: z.array(TaskRunExecutionResult),
});
export type BatchTaskRunExecutionResult = z.input<typeof BatchTaskRunExecutionResult>;
