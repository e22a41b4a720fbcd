import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { PayloadTooLargeError, RunplaneError, ValidationError } from "@runplane/core";
import { ErrorMessage, formatZodIssues, NUL_IN_URL, parseOptionalJsonBody, urlHasNul } from "@runplane/core/schemas";
import type { z } from "zod";
import { authenticateApiRequest, type ApiAuthentication } from "~/services/apiAuth.server";
import { withErrorResponse, withResponseFields } from "~/services/httpErrors.server";
import type { Runtime } from "~/services/runtime.server";

/**
 * Builders for the REST API's route modules: authenticate (secret key, or a public token where the
 * route allows one), run the handler, map every throw through `errorToResponse`. A route file is then
 * `export const loader = apiLoader({ allowJwt: true }, async ({ auth, params }) => …)`.
 */

export type ApiHandlerArgs = {
  request: Request;
  params: Record<string, string | undefined>;
  auth: ApiAuthentication;
  runtime: Runtime;
};

type ApiHandler = (args: ApiHandlerArgs) => Promise<Response>;

export type ApiRouteOptions = { allowJwt?: boolean };

class MethodNotAllowedError extends RunplaneError {
  constructor(method: string, allowed: string[]) {
    super("method_not_allowed", `Method ${method} not allowed; use ${allowed.join(" or ")}`, 405);
  }
}

export class UnsupportedMediaTypeError extends RunplaneError {
  constructor(contentType: string) {
    super("unsupported_media_type", `Content-Type must be application/x-ndjson, got "${contentType}"`, 415);
  }
}

export function apiLoader(options: ApiRouteOptions, handler: ApiHandler) {
  return ({ request, params, context }: LoaderFunctionArgs) =>
    withErrorResponse(async () => {
      refuseNulInUrl(request);
      const auth = await authenticateApiRequest(request, { allowJwt: options.allowJwt });
      return handler({ request, params, auth, runtime: context.runtime });
    }, context.runtime.logger);
}

/** `handlers` maps each accepted method (POST, PUT, …) to its handler; others → 405. */
export function apiAction(options: ApiRouteOptions, handlers: Partial<Record<"POST" | "PUT" | "PATCH" | "DELETE", ApiHandler>>) {
  return ({ request, params, context }: ActionFunctionArgs) =>
    withErrorResponse(async () => {
      const handler = handlers[request.method.toUpperCase() as keyof typeof handlers];
      if (!handler) throw new MethodNotAllowedError(request.method, Object.keys(handlers));
      refuseNulInUrl(request);
      const auth = await authenticateApiRequest(request, { allowJwt: options.allowJwt });
      return handler({ request, params, auth, runtime: context.runtime });
    }, context.runtime.logger);
}

/** A path parameter or query value holding U+0000 could never be stored or matched: 400 before any work. */
export function refuseNulInUrl(request: Request): void {
  if (urlHasNul(request.url)) throw new ValidationError(NUL_IN_URL);
}

/** A route param Remix guarantees by the file name; a blank one is a 400. */
export function requireParam(params: Record<string, string | undefined>, name: string): string {
  const value = params[name];
  if (!value) throw new ValidationError(`${name} is required`);
  return value;
}

/** A refused body up to this size is read and thrown away so the client sees the 413 (see below). */
const DISCARD_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * The raw body as text, refusing more than `maxBytes` (413) without buffering it: the declared
 * Content-Length is checked first, then the stream is counted as it is read.
 *
 * A refused body is still read to its end (and thrown away, up to DISCARD_LIMIT_BYTES): closing the
 * connection while the client is still uploading makes it report a dropped connection instead of our
 * 413. Past that limit the connection is closed after all.
 */
export async function readBodyText(request: Request, maxBytes: number): Promise<string> {
  return (await readBodyBytes(request, maxBytes)).toString("utf8");
}

/** The raw body as bytes, with the same 413 rule as readBodyText; `tooLargeMessage` names the limit. */
export async function readBodyBytes(request: Request, maxBytes: number, tooLargeMessage: string = ErrorMessage.bodyTooLarge): Promise<Buffer> {
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  if (!request.body) return Buffer.alloc(0);
  const reader = request.body.getReader();
  const refuse = async (alreadyRead: number): Promise<never> => {
    let total = alreadyRead;
    while (total <= DISCARD_LIMIT_BYTES) {
      const { done, value } = await reader.read();
      if (done) throw new PayloadTooLargeError(tooLargeMessage);
      total += value.byteLength;
    }
    await reader.cancel().catch(() => {});
    throw withResponseFields(new PayloadTooLargeError(tooLargeMessage), { headers: { connection: "close" } });
  };
  if (Number.isFinite(declared) && declared > maxBytes) return refuse(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) return refuse(total);
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/**
 * Reads and validates a JSON body. An empty body (the SDK sends `Content-Type: application/json` with
 * nothing on cancel, replay, …) is parsed as `emptyAs`. Invalid JSON or a schema failure → 400
 * naming the field.
 */
export async function readJsonBody<S extends z.ZodTypeAny>(
  request: Request,
  schema: S,
  options: { maxBytes: number; emptyAs?: unknown }
): Promise<z.output<S>> {
  const text = await readBodyText(request, options.maxBytes);
  const parsed = parseOptionalJsonBody(text);
  if (!parsed.ok) throw new ValidationError(parsed.error);
  const result = schema.safeParse(parsed.value === undefined ? options.emptyAs : parsed.value);
  if (!result.success) throw new ValidationError(formatZodIssues(result.error));
  return result.data;
}

/** JSON response with optional extra headers. */
export function json(body: unknown, init: { status?: number; headers?: Record<string, string> } = {}): Response {
  return Response.json(body, { status: init.status ?? 200, headers: init.headers });
}

/**
 * Loader and action of the catch-all routes under /api, /engine, /realtime and /otel: a path no route serves
 * is a JSON 404 (the SDK prints the body), never the dashboard's HTML error page.
 */
export function unknownApiPath({ request }: LoaderFunctionArgs | ActionFunctionArgs): Response {
  const { pathname } = new URL(request.url);
  return json({ error: `No API route at ${request.method} ${pathname}`, code: "not_found" }, { status: 404 });
}
