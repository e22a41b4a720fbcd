import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { PayloadTooLargeError, RunplaneError, ValidationError } from "@runplane/core";
import { ErrorMessage, formatZodIssues, parseOptionalJsonBody } from "@runplane/core/schemas";
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
      const auth = await authenticateApiRequest(request, { allowJwt: options.allowJwt });
      return handler({ request, params, auth, runtime: context.runtime });
    }, context.runtime.logger);
}

/** A route param Remix guarantees by the file name; a blank one is a 400. */
export function requireParam(params: Record<string, string | undefined>, name: string): string {
  const value = params[name];
  if (!value) throw new ValidationError(`${name} is required`);
  return value;
}

/**
 * The raw body, refusing more than `maxBytes` (413) without buffering it all: the declared
 * Content-Length is checked first, then the stream is counted as it is read.
 */
export async function readBodyBytes(request: Request, maxBytes: number): Promise<Buffer> {
  // The rest of the body is never read: the connection must not be reused.
  const tooLarge = () => withResponseFields(new PayloadTooLargeError(ErrorMessage.bodyTooLarge), { headers: { connection: "close" } });
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge();
  if (!request.body) return Buffer.alloc(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** {@link readBodyBytes} as UTF-8 text. */
export async function readBodyText(request: Request, maxBytes: number): Promise<string> {
  return (await readBodyBytes(request, maxBytes)).toString("utf8");
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
