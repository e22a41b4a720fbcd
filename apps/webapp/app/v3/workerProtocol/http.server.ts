import { InvalidRunStateError, StaleSnapshotError } from "@internal/run-engine";
import { toFriendlyId, UnprocessableError, ValidationError } from "@runplane/core";
import type { WorkerStaleSnapshotBody } from "@runplane/core/schemas";
import type { z } from "zod";
import { authenticateApiRequest } from "~/services/apiAuth.server";
import { errorToResponse } from "~/services/httpErrors.server";
import { getRuntime } from "~/services/runtime.server";
import type { WorkerEnvironment } from "./runAccess.server";

/**
 * Request plumbing shared by the `/api/v1/worker/*` routes: secret-key auth, body and query parsing
 * with the core protocol schemas, and the protocol's error mapping (apps/webapp/docs/worker-protocol.md §1–2).
 */

/** Authenticates with the environment secret key, runs `handler`, and maps errors to protocol responses. */
export async function handleWorkerRequest(
  request: Request,
  method: "GET" | "POST",
  handler: (environment: WorkerEnvironment) => Promise<unknown>
): Promise<Response> {
  if (request.method !== method) {
    return Response.json({ error: `Method ${request.method} not allowed`, code: "method_not_allowed" }, { status: 405, headers: { allow: method } });
  }
  try {
    const { environment } = await authenticateApiRequest(request);
    const body = await handler(environment);
    return Response.json(body, { headers: { "cache-control": "no-store" } });
  } catch (error) {
    return workerErrorResponse(error);
  }
}

/**
 * Stale snapshot → 409 `{ error: "stale snapshot", latestSnapshotId }` (the only 409 of the protocol);
 * a state the run does not allow → 422; everything else through the app's one error mapping.
 */
export function workerErrorResponse(error: unknown): Response {
  if (error instanceof StaleSnapshotError) {
    if (!error.latestSnapshotId) return errorToResponse(new UnprocessableError("The run has no execution snapshot"));
    const body: WorkerStaleSnapshotBody = { error: "stale snapshot", latestSnapshotId: toFriendlyId("snapshot", error.latestSnapshotId) };
    return Response.json(body, { status: 409 });
  }
  if (error instanceof InvalidRunStateError) {
    return errorToResponse(new UnprocessableError(error.message), getRuntime().logger);
  }
  return errorToResponse(error, getRuntime().logger);
}

const MAX_BODY_BYTES = 1_048_576;

/** The JSON body parsed with `schema`; an empty body counts as `{}`. Bad JSON or a schema miss is a 400 naming the field. */
export async function readJsonBody<S extends z.ZodTypeAny>(request: Request, schema: S): Promise<z.output<S>> {
  const length = Number(request.headers.get("content-length") ?? "0");
  if (length > MAX_BODY_BYTES) throw new ValidationError(`body: must be at most ${MAX_BODY_BYTES} bytes`);
  const text = await request.text();
  if (text.length > MAX_BODY_BYTES) throw new ValidationError(`body: must be at most ${MAX_BODY_BYTES} bytes`);
  let json: unknown = {};
  if (text.trim().length > 0) {
    try {
      json = JSON.parse(text);
    } catch {
      throw new ValidationError("body: is not valid JSON");
    }
  }
  return parseWith(schema, json, "body");
}

/** The query string parsed with `schema` (400 naming the parameter on a miss). */
export function readQuery<S extends z.ZodTypeAny>(request: Request, schema: S): z.output<S> {
  const params = Object.fromEntries(new URL(request.url).searchParams);
  return parseWith(schema, params, "query");
}

function parseWith<S extends z.ZodTypeAny>(schema: S, value: unknown, where: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const message = parsed.error.issues.map((issue) => `${issue.path.join(".") || where}: ${issue.message}`).join("; ");
  throw new ValidationError(message);
}
