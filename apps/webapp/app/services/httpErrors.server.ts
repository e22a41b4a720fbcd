import { RateLimitedError, RunplaneError } from "@runplane/core";
import { ZodError } from "zod";
import { logger as rootLogger, type Logger } from "~/services/logger.server";

/**
 * The one place errors become HTTP responses: a RunplaneError carries its status, a ZodError is a
 * 400, anything else is a logged 500 whose details stay on the server. Body: `{ error, code }`.
 */
export function errorToResponse(error: unknown, logger: Logger = rootLogger): Response {
  if (error instanceof Response) return error;
  if (error instanceof RunplaneError) {
    const headers: Record<string, string> = {};
    if (error instanceof RateLimitedError) headers["retry-after"] = String(Math.ceil(error.retryAfterMs / 1000));
    if (error.status >= 500) logger.error("request failed", { error });
    return Response.json({ error: error.message, code: error.code }, { status: error.status, headers });
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
