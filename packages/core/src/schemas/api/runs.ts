/**
 * Runs: the run object (retrieve, list item, related runs), the list query, cancel, replay,
 * reschedule, tags and idempotency-key reset.
 *
 * | route | request | response |
 * |---|---|---|
 * | GET  /api/v3/runs/{id} | — | {@link RetrieveRunResponse} |
 * | GET  /api/v1/runs, GET /api/v1/projects/{ref}/runs | {@link ListRunsQuery} | `cursorPage(ListRunResponseItem)` |
 * | POST /api/v2/runs/{id}/cancel | empty | {@link CanceledRunResponse} |
 * | POST /api/v1/runs/{id}/replay | empty or {@link ReplayRunRequestBody} | {@link ReplayRunResponse} |
 * | POST /api/v1/runs/{id}/reschedule | {@link RescheduleRunRequestBody} | {@link RetrieveRunResponse} |
 * | POST /api/v1/runs/{id}/tags | {@link AddTagsRequestBody} | {@link AddTagsResponse} |
 * | POST /api/v1/idempotencyKeys/{key}/reset | {@link ResetIdempotencyKeyRequestBody} | {@link ResetIdempotencyKeyResponse} |
 */
import { z } from "zod";
import { PublicRunStatus, runStatusFlags, toPublicRunStatus, type InternalRunStatus } from "../runStatus.js";
import { NUL_IN_BODY, parsedJsonHasNul } from "./nulCharacters.js";
import {
  ConcurrencyKey,
  CursorPageQuery,
  DelayValue,
  IdempotencyKey,
  MachinePresetName,
  QueryBoolean,
  QueryEpochMs,
  RunTags,
  SerializedError,
  TtlValue,
  WireDate,
  commaListOf,
  cursorPage,
  omitWhenNull,
  searchParamsToRecord,
  CommaList,
} from "./common.js";

export const TRIGGER_FUNCTIONS = ["triggerAndWait", "trigger", "batchTriggerAndWait", "batchTrigger"] as const;
export const TriggerFunction = z.enum(TRIGGER_FUNCTIONS);
export type TriggerFunction = z.infer<typeof TriggerFunction>;

/** How the run was started, from its batch link and whether its parent waits on it. */
export function triggerFunctionFor(run: { batchId?: string | null; resumeParentOnCompletion: boolean }): TriggerFunction {
  if (run.batchId) return run.resumeParentOnCompletion ? "batchTriggerAndWait" : "batchTrigger";
  return run.resumeParentOnCompletion ? "triggerAndWait" : "trigger";
}

// ---------------------------------------------------------------------------------------------
// The run object
// ---------------------------------------------------------------------------------------------

/** Fields of every run shape. The boolean helpers are required and must agree with `status`. */
const commonRunFields = {
  id: z.string(),
  status: PublicRunStatus,
  taskIdentifier: z.string(),
  idempotencyKey: omitWhenNull(z.string()),
  version: omitWhenNull(z.string()),
  isQueued: z.boolean(),
  isExecuting: z.boolean(),
  isWaiting: z.boolean(),
  isCompleted: z.boolean(),
  isSuccess: z.boolean(),
  isFailed: z.boolean(),
  isCancelled: z.boolean(),
  isTest: z.boolean(),
  createdAt: WireDate,
  updatedAt: WireDate,
  startedAt: omitWhenNull(WireDate),
  finishedAt: omitWhenNull(WireDate),
  delayedUntil: omitWhenNull(WireDate),
  ttl: omitWhenNull(z.string()),
  expiredAt: omitWhenNull(WireDate),
  tags: z.array(z.string()),
  costInCents: z.number(),
  baseCostInCents: z.number(),
  durationMs: z.number(),
  metadata: omitWhenNull(z.record(z.unknown())),
  taskKind: omitWhenNull(z.string()),
  region: omitWhenNull(z.string()),
};

const retrieveRunFields = {
  ...commonRunFields,
  depth: z.number().int().nonnegative(),
  triggerFunction: TriggerFunction,
  batchId: omitWhenNull(z.string()),
};

export const RelatedRunDetails = z.object(retrieveRunFields);
export type RelatedRunDetails = z.input<typeof RelatedRunDetails>;

export const RunScheduleDetails = z.object({
  id: z.string(),
  externalId: omitWhenNull(z.string()),
  deduplicationKey: omitWhenNull(z.string()),
  generator: z.object({ type: z.literal("CRON"), expression: z.string(), description: z.string() }),
});

export const RetrieveRunResponse = z.object({
  ...retrieveRunFields,
  /** JSON view of the payload: SuperJSON reduced to its `json` part; text stays a string. */
  payload: z.unknown().optional(),
  /** Instead of `payload` when the payload is offloaded; the SDK fetches it. */
  payloadPresignedUrl: omitWhenNull(z.string()),
  /** Only for COMPLETED runs. */
  output: z.unknown().optional(),
  outputPresignedUrl: omitWhenNull(z.string()),
  error: omitWhenNull(SerializedError),
  schedule: omitWhenNull(RunScheduleDetails),
  /** Required; `{}` is fine. */
  relatedRuns: z.object({
    root: omitWhenNull(RelatedRunDetails),
    parent: omitWhenNull(RelatedRunDetails),
    children: omitWhenNull(z.array(RelatedRunDetails)),
  }),
  attemptCount: z.number().int().nonnegative(),
});
export type RetrieveRunResponse = z.input<typeof RetrieveRunResponse>;

export const RunEnvironmentDetails = z.object({
  id: z.string(),
  /** The environment slug (`dev`, `prod`, …). */
  name: z.string(),
  user: omitWhenNull(z.string()),
});

export const ListRunResponseItem = z.object({ ...commonRunFields, env: RunEnvironmentDetails });
export type ListRunResponseItem = z.input<typeof ListRunResponseItem>;

export const ListRunsResponse = cursorPage(ListRunResponseItem);
export type ListRunsResponse = z.input<typeof ListRunsResponse>;

/**
 * `status` plus the seven helpers, from the internal status: use it when building any run shape
 * so the flags can never disagree with the status.
 */
export function publicStatusFields(status: InternalRunStatus | string) {
  const publicStatus = toPublicRunStatus(status);
  return { status: publicStatus, ...runStatusFlags(publicStatus) };
}

// ---------------------------------------------------------------------------------------------
// List query
// ---------------------------------------------------------------------------------------------

/** Every filter the SDK can send; values are comma-joined. Unknown parameters are ignored. */
export const ListRunsQuery = CursorPageQuery.extend({
  "filter[status]": commaListOf(PublicRunStatus).optional(),
  "filter[taskIdentifier]": CommaList.optional(),
  "filter[version]": CommaList.optional(),
  "filter[tag]": CommaList.optional(),
  "filter[bulkAction]": z.string().optional(),
  "filter[schedule]": z.string().optional(),
  "filter[isTest]": QueryBoolean.optional(),
  "filter[createdAt][from]": QueryEpochMs.optional(),
  "filter[createdAt][to]": QueryEpochMs.optional(),
  /** A duration such as `1d`; the service resolves it against now. */
  "filter[createdAt][period]": z.string().optional(),
  "filter[batch]": z.string().optional(),
  /** Queue names; a task's own queue is `task/<taskId>`. */
  "filter[queue]": CommaList.optional(),
  "filter[machine]": commaListOf(MachinePresetName).optional(),
  "filter[region]": CommaList.optional(),
  /** Project-scoped listing only: environment slugs (`dev`, `staging`, `prod`, `preview`). */
  "filter[env]": CommaList.optional(),
});

export interface ListRunsFilters {
  pageSize: number;
  after?: string;
  before?: string;
  statuses?: PublicRunStatus[];
  taskIdentifiers?: string[];
  versions?: string[];
  tags?: string[];
  bulkActionId?: string;
  scheduleId?: string;
  isTest?: boolean;
  createdFrom?: Date;
  createdTo?: Date;
  period?: string;
  batchId?: string;
  queues?: string[];
  machines?: string[];
  regions?: string[];
  envSlugs?: string[];
}

/** Parses a list query into named filters; on failure returns the zod error for `queryErrorBody`. */
export function parseListRunsQuery(
  params: URLSearchParams,
): { success: true; data: ListRunsFilters } | { success: false; error: z.ZodError } {
  const parsed = ListRunsQuery.safeParse(searchParamsToRecord(params));
  if (!parsed.success) return { success: false, error: parsed.error };
  const q = parsed.data;
  const nonEmpty = <T>(list: T[] | undefined) => (list && list.length > 0 ? list : undefined);
  return {
    success: true,
    data: {
      pageSize: q["page[size]"],
      after: q["page[after]"],
      before: q["page[before]"],
      statuses: nonEmpty(q["filter[status]"]),
      taskIdentifiers: nonEmpty(q["filter[taskIdentifier]"]),
      versions: nonEmpty(q["filter[version]"]),
      tags: nonEmpty(q["filter[tag]"]),
      bulkActionId: q["filter[bulkAction]"],
      scheduleId: q["filter[schedule]"],
      isTest: q["filter[isTest]"],
      createdFrom: q["filter[createdAt][from]"],
      createdTo: q["filter[createdAt][to]"],
      period: q["filter[createdAt][period]"],
      batchId: q["filter[batch]"],
      queues: nonEmpty(q["filter[queue]"]),
      machines: nonEmpty(q["filter[machine]"]),
      regions: nonEmpty(q["filter[region]"]),
      envSlugs: nonEmpty(q["filter[env]"]),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Mutations
// ---------------------------------------------------------------------------------------------

/** 200 also when the run is already final. */
export const CanceledRunResponse = z.object({ id: z.string() });

/**
 * Replay overrides (4.8.x). The client sends nothing without overrides; with them every field is
 * optional. An object payload arrives as a SuperJSON string with `payloadType: application/super+json`.
 */
export const ReplayRunRequestBody = z
  .object({
    payload: z.unknown().optional(),
    payloadType: z.enum(["application/json", "application/super+json"]).optional(),
    metadata: z.record(z.unknown()).optional(),
    tags: RunTags.optional(),
    queue: z.string().optional(),
    concurrencyKey: ConcurrencyKey.optional(),
    machine: MachinePresetName.optional(),
    version: z.string().optional(),
    region: z.string().optional(),
    delay: DelayValue.optional(),
    ttl: TtlValue.optional(),
    idempotencyKey: IdempotencyKey.optional(),
    idempotencyKeyTTL: z.string().optional(),
    maxAttempts: z.number().int().min(1).optional(),
    maxDuration: z.number().nonnegative().optional(),
    priority: z.number().optional(),
  })
  .superRefine((value, ctx) => {
    if (value.payloadType === "application/super+json" && typeof value.payload !== "string") {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ["payload"],
        message: "payload must be a SuperJSON string when payloadType is application/super+json",
      });
    }
  });
export type ReplayRunRequestBody = z.output<typeof ReplayRunRequestBody>;

export const ReplayRunResponse = z.object({ id: z.string() });

export const RescheduleRunRequestBody = z.object({ delay: DelayValue });
export type RescheduleRunRequestBody = z.output<typeof RescheduleRunRequestBody>;

export const AddTagsRequestBody = z.object({ tags: RunTags });
export type AddTagsRequestBody = z.output<typeof AddTagsRequestBody>;
/** `message` is required: without it the client throws although the tags were added. */
export const AddTagsResponse = z.object({ message: z.string() });

/** The path `{key}` is the hashed key (64 hex); the body names the task. */
export const ResetIdempotencyKeyRequestBody = z.object({ taskIdentifier: z.string().min(1) });
export const ResetIdempotencyKeyResponse = z.object({ id: z.string() });

/**
 * Bodies of POSTs the client sends with `Content-Type: application/json` and no body (cancel,
 * replay without overrides, jwt/claims, schedule activate). Parse the raw text with this:
 * empty → `undefined`, otherwise JSON.
 */
export function parseOptionalJsonBody(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  if (text.trim().length === 0) return { ok: true, value: undefined };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, error: "Request body is not valid JSON" };
  }
  if (parsedJsonHasNul(text, value)) return { ok: false, error: NUL_IN_BODY };
  return { ok: true, value };
}

/**
 * The JSON view of a stored packet, as the run object shows `payload`, `output` and `metadata`:
 * JSON is parsed, SuperJSON is reduced to its `json` part, text stays a string. An offloaded
 * packet (`application/store`) or unreadable data gives `undefined`; the caller then sends a
 * presigned URL instead.
 */
export function packetJsonView(data: string | null | undefined, dataType: string): unknown {
  if (data === null || data === undefined) return undefined;
  try {
    switch (dataType) {
      case "application/json":
        return JSON.parse(data);
      case "application/super+json": {
        const parsed = JSON.parse(data) as { json?: unknown };
        return parsed && typeof parsed === "object" ? parsed.json : undefined;
      }
      case "text/plain":
        return data;
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}
