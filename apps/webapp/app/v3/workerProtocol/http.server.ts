import { StaleSnapshotError } from "@internal/run-engine";
import { toFriendlyId, ValidationError } from "@runplane/core";
import { formatZodIssues, type WorkerStaleSnapshotBody } from "@runplane/core/schemas";
import type { z } from "zod";
import { readJsonBody } from "~/services/apiRoute.server";
import { withResponseFields } from "~/services/httpErrors.server";

/**
 * Input and error helpers of the `/api/v1/worker/*` routes (apps/webapp/docs/worker-protocol.md §1–2).
 * The routes are built with apiAction/apiLoader (secret key only); errors map in httpErrors.server.ts.
 */

/** Completions carry the task's output; every other body is small. */
export const WORKER_MAX_BODY_BYTES = 10 * 1024 * 1024;

/** The JSON body parsed with the protocol schema; an empty body counts as `{}`. 400 naming the field, 413 when too large. */
export function readWorkerBody<S extends z.ZodTypeAny>(request: Request, schema: S): Promise<z.output<S>> {
  return readJsonBody(request, schema, { maxBytes: WORKER_MAX_BODY_BYTES, emptyAs: {} });
}

/** The query string parsed with `schema` (400 naming the parameter). */
export function readWorkerQuery<S extends z.ZodTypeAny>(request: Request, schema: S): z.output<S> {
  const parsed = schema.safeParse(Object.fromEntries(new URL(request.url).searchParams));
  if (!parsed.success) throw new ValidationError(formatZodIssues(parsed.error));
  return parsed.data;
}

/** A stale snapshot is answered `409 { error: "stale snapshot", latestSnapshotId }` (§2): the only 409 of the protocol. */
export function asStaleSnapshotResponse(error: StaleSnapshotError): StaleSnapshotError {
  if (!error.latestSnapshotId) return error;
  const body: WorkerStaleSnapshotBody = { error: "stale snapshot", latestSnapshotId: toFriendlyId("snapshot", error.latestSnapshotId) };
  return withResponseFields(error, { body });
}
