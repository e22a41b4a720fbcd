/**
 * Building blocks shared by the API schemas.
 *
 * Two directions, two habits:
 * - Request schemas parse what the published SDK sends. Unknown keys are stripped (never an error),
 *   types are strict, and every issue carries the path of the offending field.
 * - Response schemas are run by the server over what it is about to send. Their input type is what
 *   a presenter naturally has (Dates, `null` for absent columns); their output is the exact JSON the
 *   client parses: ISO date strings, and optional fields omitted rather than `null`, because the
 *   client rejects `null` in optional strings and turns a `null` date into 1970.
 */
import { z } from "zod";

// ---------------------------------------------------------------------------------------------
// JSON values
// ---------------------------------------------------------------------------------------------

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export const JsonValueSchema: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(JsonValueSchema), z.record(JsonValueSchema)]),
);
export const JsonObjectSchema: z.ZodType<JsonObject> = z.record(JsonValueSchema);

// ---------------------------------------------------------------------------------------------
// Response helpers
// ---------------------------------------------------------------------------------------------

/** A date on the wire: accepts a Date or an ISO string, emits an ISO string (with `Z`). */
export const WireDate = z
  .union([z.date(), z.string().datetime({ offset: true })])
  .transform((value) => (typeof value === "string" ? new Date(value) : value).toISOString());

/**
 * An optional response field. `null` and `undefined` both mean "absent", and the output is
 * `undefined`, which `JSON.stringify` drops. Use it for every optional field in a response.
 */
export function omitWhenNull<T extends z.ZodTypeAny>(schema: T) {
  return schema
    .nullish()
    .transform((value): z.output<T> | undefined => (value === null || value === undefined ? undefined : value));
}

/** Removes keys whose value is `undefined`, so a response object has only the fields it carries. */
export function compact<T extends Record<string, unknown>>(value: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) if (v !== undefined) out[key] = v;
  return out as T;
}

// ---------------------------------------------------------------------------------------------
// Request primitives the SDK uses in several bodies
// ---------------------------------------------------------------------------------------------

export const MAX_TAG_LENGTH = 128;
export const MAX_TAGS_PER_RUN = 10;
export const MAX_IDEMPOTENCY_KEY_LENGTH = 2048;

export const RunTag = z.string().max(MAX_TAG_LENGTH, `Tags must be at most ${MAX_TAG_LENGTH} characters`);
/** The SDK sends a single tag as a bare string and several as an array. */
export const RunTags = z.union([RunTag, z.array(RunTag)]);
export type RunTags = z.infer<typeof RunTags>;

/** Normalises a `RunTags` value: array form, trimmed, blanks dropped, duplicates removed (first wins). */
export function normalizeTags(tags: RunTags | undefined): string[] {
  if (tags === undefined) return [];
  const list = typeof tags === "string" ? [tags] : tags;
  const seen = new Set<string>();
  for (const tag of list) {
    const trimmed = tag.trim();
    if (trimmed.length > 0) seen.add(trimmed);
  }
  return [...seen];
}

export const IdempotencyKey = z
  .string()
  .max(MAX_IDEMPOTENCY_KEY_LENGTH, `idempotencyKey must be at most ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);

export const IdempotencyKeyScope = z.enum(["run", "attempt", "global"]);
/** The user's original key and its scope; the SDK attaches it next to the hashed key. */
export const IdempotencyKeyOptions = z.object({ key: z.string(), scope: IdempotencyKeyScope });
export type IdempotencyKeyOptions = z.infer<typeof IdempotencyKeyOptions>;

/** Numbers are accepted and stringified: `concurrencyKey: user.id` is a common call. */
export const ConcurrencyKey = z.union([z.string(), z.number()]).transform((value) => String(value));

export const MACHINE_PRESETS = ["micro", "small-1x", "small-2x", "medium-1x", "medium-2x", "large-1x", "large-2x"] as const;
export const MachinePresetName = z.enum(MACHINE_PRESETS);
export type MachinePresetName = z.infer<typeof MachinePresetName>;

/** A duration string (`"30s"`, `"2h30m"`) or a date; a Date arrives as its ISO string. */
export const DelayValue = z.union([z.string(), z.coerce.date()]);
/** `ttl` is a duration string or whole seconds. */
export const TtlValue = z.union([z.string(), z.number().int().nonnegative()]);

// ---------------------------------------------------------------------------------------------
// Task run errors
// ---------------------------------------------------------------------------------------------

export const TaskRunErrorCause = z.object({
  name: z.string().optional(),
  message: z.string(),
  stackTrace: z.string().optional(),
});

/** Internal error codes the client's schema knows. A code outside this list fails its parse. */
export const TASK_RUN_INTERNAL_ERROR_CODES = [
  "COULD_NOT_FIND_EXECUTOR",
  "COULD_NOT_FIND_TASK",
  "COULD_NOT_IMPORT_TASK",
  "CONFIGURED_INCORRECTLY",
  "TASK_ALREADY_RUNNING",
  "TASK_EXECUTION_FAILED",
  "TASK_EXECUTION_ABORTED",
  "TASK_PROCESS_EXITED_WITH_NON_ZERO_CODE",
  "TASK_PROCESS_SIGKILL_TIMEOUT",
  "TASK_PROCESS_SIGSEGV",
  "TASK_PROCESS_SIGTERM",
  "TASK_PROCESS_OOM_KILLED",
  "TASK_PROCESS_MAYBE_OOM_KILLED",
  "TASK_RUN_CANCELLED",
  "TASK_INPUT_ERROR",
  "TASK_OUTPUT_ERROR",
  "TASK_MIDDLEWARE_ERROR",
  "HANDLE_ERROR_ERROR",
  "GRACEFUL_EXIT_TIMEOUT",
  "TASK_RUN_HEARTBEAT_TIMEOUT",
  "TASK_RUN_CRASHED",
  "TASK_RUN_UNCAUGHT_EXCEPTION",
  "MAX_DURATION_EXCEEDED",
  "DISK_SPACE_EXCEEDED",
  "POD_EVICTED",
  "POD_UNKNOWN_ERROR",
  "TASK_HAS_N0_EXECUTION_SNAPSHOT",
  "TASK_DEQUEUED_INVALID_STATE",
  "TASK_DEQUEUED_QUEUE_NOT_FOUND",
  "TASK_RUN_DEQUEUED_MAX_RETRIES",
  "TASK_RUN_STALLED_EXECUTING",
  "TASK_RUN_STALLED_EXECUTING_WITH_WAITPOINTS",
  "OUTDATED_SDK_VERSION",
  "TASK_DID_CONCURRENT_WAIT",
  "RECURSIVE_WAIT_DEADLOCK",
  "BATCH_ITEM_COULD_NOT_TRIGGER",
  "PAYLOAD_TOO_LARGE",
  "UNSPECIFIED_ERROR",
] as const;
export const TaskRunInternalErrorCode = z.enum(TASK_RUN_INTERNAL_ERROR_CODES);

/** The error a worker reports and the realtime feed carries (`error` column). */
export const TaskRunError = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("BUILT_IN_ERROR"),
    name: z.string(),
    message: z.string(),
    stackTrace: z.string(),
    causes: z.array(TaskRunErrorCause).optional(),
  }),
  z.object({ type: z.literal("CUSTOM_ERROR"), raw: z.string() }),
  z.object({ type: z.literal("STRING_ERROR"), raw: z.string() }),
  z.object({
    type: z.literal("INTERNAL_ERROR"),
    code: TaskRunInternalErrorCode,
    message: z.string().optional(),
    stackTrace: z.string().optional(),
  }),
]);
export type TaskRunError = z.infer<typeof TaskRunError>;

/** The error shape on a retrieved run (`error` field of the run object). */
export const SerializedError = z.object({
  message: z.string(),
  name: omitWhenNull(z.string()),
  stackTrace: omitWhenNull(z.string()),
  causes: omitWhenNull(z.array(TaskRunErrorCause)),
});
export type SerializedError = z.output<typeof SerializedError>;

/** TaskRunError → the run object's `error`: built-in errors keep name and stack; others carry their raw text. */
export function serializeTaskRunError(error: TaskRunError): SerializedError {
  switch (error.type) {
    case "BUILT_IN_ERROR":
      return compact({ name: error.name, message: error.message, stackTrace: error.stackTrace, causes: error.causes });
    case "CUSTOM_ERROR":
    case "STRING_ERROR":
      return { message: error.raw };
    case "INTERNAL_ERROR":
      return compact({
        message: error.message ? `${error.message} (${error.code})` : `Internal error (${error.code})`,
        name: "InternalError",
        stackTrace: error.stackTrace,
      });
  }
}

// ---------------------------------------------------------------------------------------------
// Cursor pagination
// ---------------------------------------------------------------------------------------------

export const DEFAULT_PAGE_SIZE = 25;
export const MAX_PAGE_SIZE = 100;

/** `page[size]`, `page[after]`, `page[before]` as query-string values. */
export const CursorPageQuery = z.object({
  "page[size]": z.coerce
    .number({ invalid_type_error: "page[size] must be a number" })
    .int()
    .min(1)
    .max(MAX_PAGE_SIZE)
    .default(DEFAULT_PAGE_SIZE),
  "page[after]": z.string().min(1).optional(),
  "page[before]": z.string().min(1).optional(),
});

/** `{ data, pagination: { next?, previous? } }`: `next` goes back as `page[after]`, `previous` as `page[before]`. */
export function cursorPage<T extends z.ZodTypeAny>(item: T) {
  return z.object({
    data: z.array(item),
    pagination: z.object({ next: omitWhenNull(z.string()), previous: omitWhenNull(z.string()) }),
  });
}

/** Opaque cursor: base64url of a small JSON value. Decoding validates with the caller's schema. */
export function encodeCursor(value: JsonValue): string {
  return Buffer.from(JSON.stringify(value), "utf8").toString("base64url");
}
export function decodeCursor<T extends z.ZodTypeAny>(cursor: string, schema: T): z.output<T> | undefined {
  try {
    const parsed = schema.safeParse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Query-string helpers (`filter[...]` values are comma-joined)
// ---------------------------------------------------------------------------------------------

/** `"a,b"` → `["a","b"]`; blanks dropped. */
export const CommaList = z
  .string()
  .transform((value) => value.split(",").map((part) => part.trim()).filter((part) => part.length > 0));

export function commaListOf<T extends z.ZodTypeAny>(item: T) {
  return CommaList.pipe(z.array(item));
}

/** `"true"` / `"false"` (the SDK sends `String(boolean)`). */
export const QueryBoolean = z.enum(["true", "false"]).transform((value) => value === "true");

/** Epoch milliseconds as a string (the SDK sends `Date#getTime()`); an ISO date is also accepted. */
export const QueryEpochMs = z.string().transform((value, ctx) => {
  const date = /^\d+$/.test(value) ? new Date(Number(value)) : new Date(value);
  if (Number.isNaN(date.getTime())) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: "Expected epoch milliseconds or an ISO date" });
    return z.NEVER;
  }
  return date;
});

/** Turns URLSearchParams into a plain record (last value wins) for a zod object schema. */
export function searchParamsToRecord(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of params) out[key] = value;
  return out;
}
