/**
 * Wait tokens and waits.
 *
 * | route | request | response |
 * |---|---|---|
 * | POST /api/v1/waitpoints/tokens | {@link CreateWaitpointTokenRequestBody} | {@link CreateWaitpointTokenResponse} + `x-trigger-jwt` |
 * | GET  /api/v1/waitpoints/tokens | {@link ListWaitpointTokensQuery} | `cursorPage(WaitpointTokenItem)` |
 * | GET  /api/v1/waitpoints/tokens/{id} | — | {@link WaitpointRetrieveTokenResponse} |
 * | POST /api/v1/waitpoints/tokens/{id}/complete | {@link CompleteWaitpointTokenRequestBody} | {@link CompleteWaitpointTokenResponse} |
 * | POST /api/v1/waitpoints/tokens/{id}/callback/{hash} | raw JSON = data, no API key | {@link CompleteWaitpointTokenResponse} |
 * | POST /engine/v1/runs/{runId}/wait/duration | {@link WaitForDurationRequestBody} | {@link WaitForDurationResponse} |
 * | POST /engine/v1/runs/{runId}/waitpoints/tokens/{id}/wait | empty | {@link WaitForWaitpointTokenResponse} |
 */
import { z } from "zod";
import { WaitpointTokenStatus } from "../runStatus.js";
import {
  CommaList,
  CursorPageQuery,
  DelayValue,
  IdempotencyKey,
  QueryEpochMs,
  RunTags,
  WireDate,
  commaListOf,
  cursorPage,
  omitWhenNull,
  searchParamsToRecord,
} from "./common.js";

export const MAX_CREATE_TOKEN_BODY_BYTES = 10 * 1024;
export const MAX_COMPLETE_TOKEN_BODY_BYTES = 3 * 1024 * 1024;
export const WAITPOINT_TIMEOUT_ERROR_CODE = "TRIGGER_WAITPOINT_TIMEOUT";

export const CreateWaitpointTokenRequestBody = z.object({
  /** Raw key (not hashed): the same key within its TTL returns the existing token. */
  idempotencyKey: IdempotencyKey.optional(),
  idempotencyKeyTTL: z.string().optional(),
  /** Duration like `delay`, or an ISO date (the SDK sends a Date as its ISO string). */
  timeout: DelayValue.optional(),
  tags: RunTags.optional(),
  /**
   * Runplane extension: the run (friendly id) creating the token from inside its execution. The token
   * is then run-owned and stored beside that run; without it the token is standalone (control plane).
   */
  ownerRunId: z.string().max(128).optional(),
});
export type CreateWaitpointTokenRequestBody = z.output<typeof CreateWaitpointTokenRequestBody>;

export const CreateWaitpointTokenResponse = z.object({
  id: z.string(),
  isCached: z.boolean(),
  /** POSTing JSON here completes the token without an API key. */
  url: z.string(),
});
export type CreateWaitpointTokenResponse = z.input<typeof CreateWaitpointTokenResponse>;

export const WaitpointTokenItem = z.object({
  id: z.string(),
  url: z.string(),
  status: WaitpointTokenStatus,
  completedAt: omitWhenNull(WireDate),
  timeoutAt: omitWhenNull(WireDate),
  idempotencyKey: omitWhenNull(z.string()),
  idempotencyKeyExpiresAt: omitWhenNull(WireDate),
  tags: z.array(z.string()),
  createdAt: WireDate,
});
export type WaitpointTokenItem = z.input<typeof WaitpointTokenItem>;

export const ListWaitpointTokensResponse = cursorPage(WaitpointTokenItem);

/** The list item plus the raw output packet; the SDK parses `output` by `outputType`. */
export const WaitpointRetrieveTokenResponse = WaitpointTokenItem.extend({
  output: omitWhenNull(z.string()),
  outputType: omitWhenNull(z.string()),
  outputIsError: omitWhenNull(z.boolean()),
});
export type WaitpointRetrieveTokenResponse = z.input<typeof WaitpointRetrieveTokenResponse>;

export const ListWaitpointTokensQuery = CursorPageQuery.extend({
  "filter[status]": commaListOf(WaitpointTokenStatus).optional(),
  "filter[idempotencyKey]": z.string().optional(),
  "filter[tags]": CommaList.optional(),
  "filter[createdAt][period]": z.string().optional(),
  "filter[createdAt][from]": QueryEpochMs.optional(),
  "filter[createdAt][to]": QueryEpochMs.optional(),
});

export interface ListWaitpointTokensFilters {
  pageSize: number;
  after?: string;
  before?: string;
  statuses?: WaitpointTokenStatus[];
  idempotencyKey?: string;
  tags?: string[];
  period?: string;
  createdFrom?: Date;
  createdTo?: Date;
}

export function parseListWaitpointTokensQuery(
  params: URLSearchParams,
): { success: true; data: ListWaitpointTokensFilters } | { success: false; error: z.ZodError } {
  const parsed = ListWaitpointTokensQuery.safeParse(searchParamsToRecord(params));
  if (!parsed.success) return { success: false, error: parsed.error };
  const q = parsed.data;
  return {
    success: true,
    data: {
      pageSize: q["page[size]"],
      after: q["page[after]"],
      before: q["page[before]"],
      statuses: q["filter[status]"]?.length ? q["filter[status]"] : undefined,
      idempotencyKey: q["filter[idempotencyKey]"],
      tags: q["filter[tags]"]?.length ? q["filter[tags]"] : undefined,
      period: q["filter[createdAt][period]"],
      createdFrom: q["filter[createdAt][from]"],
      createdTo: q["filter[createdAt][to]"],
    },
  };
}

/** `data` may be anything JSON, including absent or null. */
export const CompleteWaitpointTokenRequestBody = z.object({ data: z.unknown().optional() });
/** `success` must be the literal `true`. */
export const CompleteWaitpointTokenResponse = z.object({ success: z.literal(true) });

/** The JSON string a timed-out token's output holds (`outputIsError: true`, `application/json`). */
export function waitpointTimeoutOutput(timedOutAt: Date): string {
  return JSON.stringify({
    code: WAITPOINT_TIMEOUT_ERROR_CODE,
    message: `Waitpoint timed out at ${timedOutAt.toISOString()}`,
  });
}

export const WaitForDurationRequestBody = z.object({
  date: z.coerce.date(),
  idempotencyKey: IdempotencyKey.optional(),
  idempotencyKeyTTL: z.string().optional(),
});
export type WaitForDurationRequestBody = z.output<typeof WaitForDurationRequestBody>;

export const WaitForDurationResponse = z.object({
  waitUntil: WireDate,
  waitpoint: z.object({ id: z.string() }),
});
export type WaitForDurationResponse = z.input<typeof WaitForDurationResponse>;

/** `success: false` makes the SDK throw inside the task. */
export const WaitForWaitpointTokenResponse = z.object({ success: z.boolean() });
