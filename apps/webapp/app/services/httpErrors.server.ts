import { RateLimitedError, RunplaneError } from "@runplane/core";
import { shouldRetryHeader } from "@runplane/core/schemas";
import { ZodError } from "zod";
import { logger as rootLogger, type Logger } from "~/services/logger.server";

/**
 * Extra fields a RunplaneError may carry into its response: body fields the SDK reads (`param`,
 * `type`, a different `code`) and headers. Set with {@link withResponseFields}.
 */
export type ErrorResponseFields = { body?: Record<string, unknown>; headers?: Record<string, string> };

const RESPONSE_FIELDS = Symbol.for("runplane.errorResponseFields");

/** Attaches response fields to an error (returns the same error, for `throw withResponseFields(…)`). */
export function withResponseFields<E extends Error>(error: E, fields: ErrorResponseFields): E {
  (error as unknown as Record<symbol, ErrorResponseFields>)[RESPONSE_FIELDS] = fields;
  return error;
}

/**
 * The one place errors become HTTP responses: a RunplaneError carries its status, a ZodError is a
 * 400, anything else is a logged 500 whose details stay on the server. Body: `{ error, code }`.
 * 409s are final answers here (`x-should-retry: false`); a transient 409 says otherwise through its
 * response fields.
 */
export function errorToResponse(error: unknown, logger: Logger = rootLogger): Response {
  if (error instanceof Response) return error;
  if (error instanceof RunplaneError) {
    const fields = (error as unknown as Record<symbol, ErrorResponseFields | undefined>)[RESPONSE_FIELDS];
    const headers: Record<string, string> = { ...(error.status === 409 ? shouldRetryHeader(409, false) : {}), ...fields?.headers };
    if (error instanceof RateLimitedError) headers["retry-after"] = String(Math.ceil(error.retryAfterMs / 1000));
    if (error.status >= 500) logger.error("request failed", { error });
    return Response.json({ error: error.message, code: error.code, ...fields?.body }, { status: error.status, headers });
  }
  if (error instanceof ZodError) {
    const message = error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");
    return Response.json({ error: message, code: "validation_error" }, { status: 400 });
  }
  logger.error("unhandled error", { error });
  return Response.json({ error: "Internal server error", code: "internal_error" }, { status: 500 });
}

/** Wraps a loader or action body so thrown errors map through `errorToResponse`. */
export async function withErrorResponse(run: () => Promise<Response>, logger?: Logger): Promise<Response> {
  try {
    return await run();
  } catch (error) {
    return errorToResponse(error, logger);
  }
}
