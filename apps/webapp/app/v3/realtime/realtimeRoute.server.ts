import type { Runtime } from "~/services/runtime.server";
import { authenticateApiRequest, type ApiAuthentication } from "~/services/apiAuth.server";
import { refuseNulInUrl } from "~/services/apiRoute.server";
import { errorToResponse } from "~/services/httpErrors.server";
import { ValidationError } from "@runplane/core";
import { ELECTRIC_EXPOSE_HEADERS, parseShapeRequest, resolveSkipColumns, type ShapeHttpResponse, type ShapeRequest } from "@runplane/core/realtime";
import { z } from "zod";
import { getRealtimeService } from "./realtimeService.server";
import type { RealtimeRunSource } from "./runSource.server";
import { serveShape, type ShapeDefinition } from "./shapeFeed.server";

/** Realtime is public (browsers with public tokens): any origin, and the Electric headers readable. */
export const REALTIME_CORS_HEADERS: Record<string, string> = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, OPTIONS",
  "access-control-allow-headers":
    "authorization, content-type, trigger-version, x-trigger-api-version, x-trigger-electric-version, x-trigger-branch",
  "access-control-expose-headers": ELECTRIC_EXPOSE_HEADERS,
  "access-control-max-age": "86400",
};

function withCors(response: Response): Response {
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(REALTIME_CORS_HEADERS)) headers.set(name, value);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

function toResponse(shape: ShapeHttpResponse): Response {
  return new Response(shape.body, { status: shape.status, headers: shape.headers });
}

/** The CORS preflight: 204 for OPTIONS; any other method but GET (route actions) is a 405. */
export function realtimePreflight(request: Request): Response {
  if (request.method === "OPTIONS") return new Response(null, { status: 204, headers: REALTIME_CORS_HEADERS });
  return withCors(Response.json({ error: "Method not allowed" }, { status: 405, headers: { allow: "GET, OPTIONS" } }));
}

const TokenRealtimeClaims = z.object({ realtime: z.object({ skipColumns: z.array(z.string()).optional() }).optional() });

/** The `realtime.skipColumns` claim of an (already verified) public token. */
function tokenSkipColumns(auth: ApiAuthentication): string[] {
  if (auth.type !== "PUBLIC_JWT") return [];
  try {
    const payload = auth.token.split(".")[1] ?? "";
    const claims = TokenRealtimeClaims.safeParse(JSON.parse(Buffer.from(payload, "base64url").toString("utf8")));
    return claims.success ? (claims.data.realtime?.skipColumns ?? []) : [];
  } catch {
    return [];
  }
}

export type RealtimeRequestContext = {
  auth: ApiAuthentication;
  query: ShapeRequest;
  /** Query `skipColumns` plus the token's, minus the columns the client requires. */
  skipColumns: string[];
  runtime: Runtime;
  source: RealtimeRunSource;
};

/**
 * A realtime feed request, start to end: authenticate (secret key or public token), parse the
 * Electric query, let `resolveShape` find and authorise what is asked for (throwing NotFound /
 * Forbidden), then serve the shape — held while live. Errors become JSON with CORS headers.
 */
export async function handleRealtimeRequest(
  request: Request,
  runtime: Runtime,
  resolveShape: (ctx: RealtimeRequestContext) => Promise<ShapeDefinition>
): Promise<Response> {
  // Remix hands OPTIONS to the loader.
  if (request.method === "OPTIONS") return realtimePreflight(request);
  try {
    if (runtime.env.REALTIME_BACKEND !== "native") {
      return withCors(
        Response.json(
          { error: "This instance serves realtime only with REALTIME_BACKEND=native (there is no Electric proxy)." },
          { status: 501 }
        )
      );
    }
    refuseNulInUrl(request);
    const auth = await authenticateApiRequest(request, { allowJwt: true });
    const parsed = parseShapeRequest(new URL(request.url));
    if (!parsed.success) {
      const message = parsed.error.issues.map((i) => `${i.path.join(".") || "query"}: ${i.message}`).join("; ");
      throw new ValidationError(message);
    }
    const service = getRealtimeService(runtime);
    const ctx: RealtimeRequestContext = {
      auth,
      query: parsed.data,
      skipColumns: resolveSkipColumns(parsed.data.skipColumns, tokenSkipColumns(auth)),
      runtime,
      source: service.source,
    };
    const shape = await resolveShape(ctx);
    return withCors(toResponse(await serveShape(service.feedDeps, shape, parsed.data, request.signal)));
  } catch (error) {
    return withCors(errorToResponse(error, runtime.logger));
  }
}
