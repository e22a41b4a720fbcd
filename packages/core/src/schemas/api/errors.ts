/**
 * Error bodies, as the client reads them.
 *
 * The client turns every non-2xx response into an `ApiError` whose message is `body.error` (a
 * string, or the `message` of an object), falling back to `"<status> <text>"` for a non-JSON body.
 * It also copies `code`, `param` and `type` from the body. The class follows the status:
 * 400 BadRequestError, 401 AuthenticationError, 403 PermissionDeniedError, 404 NotFoundError,
 * 409 ConflictError, 422 UnprocessableEntityError, 429 RateLimitError, >=500 InternalServerError.
 *
 * Retries: the client retries 408, 409, 429 and every 5xx (5 attempts over about 9.3 s), unless
 * `x-should-retry: false`; and it retries any status when `x-should-retry: true`.
 */
import { z } from "zod";
import { ResponseHeader } from "./headers.js";

/** The body every error response carries. */
export const ApiErrorBody = z.object({
  error: z.string(),
  code: z.string().optional(),
  param: z.string().optional(),
  type: z.string().optional(),
});
export type ApiErrorBody = z.infer<typeof ApiErrorBody>;

/** 401 for a request with no Authorization header (Problem+JSON that still has `error`). */
export const MissingAuthorizationBody = ApiErrorBody.extend({
  title: z.literal("Unauthorized"),
  status: z.literal(401),
  detail: z.string(),
});

/** 403 when a public access token lacks the scope: the client exposes code/param/type. */
export const MISSING_SCOPE_BODY = {
  error: "Unauthorized",
  code: "unauthorized",
  param: "access_token",
  type: "authorization",
} as const satisfies ApiErrorBody;

/** 400 for an invalid list query: `error` for the client's message, `details` for people. */
export const QueryErrorBody = ApiErrorBody.extend({
  details: z.array(z.object({ path: z.string(), message: z.string() })),
});
export type QueryErrorBody = z.infer<typeof QueryErrorBody>;

/** 429: Problem+JSON with `error`; `x-ratelimit-reset` must be epoch milliseconds. */
export const RateLimitBody = ApiErrorBody.extend({
  title: z.literal("Too Many Requests"),
  status: z.literal(429),
  detail: z.string(),
});

/** Canonical messages the reference's clients and tests expect. */
export const ErrorMessage = {
  noAuthorizationHeader: "No authorization header provided",
  invalidApiKey: "Invalid API key",
  invalidPublicToken: "Public Access Token is invalid",
  branchRequired: "x-trigger-branch header required for preview env",
  noMatchingBranch: "No matching branch env",
  notFound: "Not found",
  runNotFound: "Run not found",
  taskNotFound: "Task not found",
  bodyTooLarge: "Request body too large",
  internal: "Something went wrong",
  tooManyTags: (count: number) => `Runs can only have 10 tags, you're trying to set ${count}.`,
  oneTimeTokenUsed: (task: string) =>
    `Cannot trigger ${task} with a one-time use token as it has already been used.`,
  metadataRunCompleted: "Cannot update metadata for a completed run",
  rescheduleNotDelayed: "Cannot reschedule a run that is not delayed",
  invalidDelay: (value: string) => `Invalid delay: ${value}`,
  batchTooLarge: (count: number, max: number) => `Batch runCount of ${count} exceeds maximum allowed of ${max}.`,
} as const;

/** Statuses the client retries on its own when `x-should-retry` is absent. */
export function clientRetriesByDefault(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/**
 * The `x-should-retry` value to send, or `undefined` to leave the client's default. A final
 * answer on a status the client would retry (a 409 that will never change, a 5xx that is not
 * transient) must say `false`, or the caller waits through ~9 s of pointless retries.
 */
export function shouldRetryHeader(status: number, retryable: boolean): Record<string, string> {
  if (retryable === clientRetriesByDefault(status)) return {};
  return { [ResponseHeader.shouldRetry]: retryable ? "true" : "false" };
}

/** One line per zod issue, each starting with the path of the field: `options.ttl: Expected …`. */
export function formatZodIssues(error: z.ZodError, prefix?: string): string {
  return error.issues
    .map((issue) => {
      const path = [prefix, ...issue.path.map(String)].filter((part) => part !== undefined && part !== "").join(".");
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join("; ");
}

/** `{ error }` body for a request that failed its schema; the message names each field. */
export function validationErrorBody(error: z.ZodError, prefix?: string): ApiErrorBody {
  return { error: formatZodIssues(error, prefix) };
}

/** `{ error, details }` body for a list query that failed its schema. */
export function queryErrorBody(error: z.ZodError): QueryErrorBody {
  return {
    error: `Invalid query: ${formatZodIssues(error)}`,
    details: error.issues.map((issue) => ({ path: issue.path.map(String).join("."), message: issue.message })),
  };
}
