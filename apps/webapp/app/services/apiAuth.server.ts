import type { AuthenticatedEnvironment } from "@internal/database/resolver";
import { isPublicToken, peekPublicTokenSubject, verifyPublicToken } from "@runplane/core/auth";
import { ForbiddenError, UnauthorizedError } from "@runplane/core";
import { getRuntime } from "~/services/runtime.server";

/** Who is calling the REST API: an environment's secret key (full access) or a public access token (scoped). */
export type ApiAuthentication =
  | { type: "SECRET_KEY"; environment: AuthenticatedEnvironment }
  | { type: "PUBLIC_JWT"; environment: AuthenticatedEnvironment; scopes: string[]; token: string; oneTimeUse: boolean };

export type AuthenticateOptions = {
  /** Routes that accept public access tokens say so; the rest take secret keys only. */
  allowJwt?: boolean;
};

function bearerToken(request: Request): string | undefined {
  const header = request.headers.get("authorization");
  if (!header) return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  return match?.[1]?.trim() || undefined;
}

/**
 * Resolves the caller's environment through the control-plane resolver (cached). Missing or invalid
 * credentials throw UnauthorizedError (401); a token on a secret-key-only route is a 401 too.
 */
export async function authenticateApiRequest(request: Request, options: AuthenticateOptions = {}): Promise<ApiAuthentication> {
  const token = bearerToken(request);
  if (!token) throw new UnauthorizedError("Invalid or Missing API key");
  const { resolver } = getRuntime();

  if (isPublicToken(token)) {
    if (!options.allowJwt) throw new UnauthorizedError("This endpoint requires a secret API key");
    const environmentId = peekPublicTokenSubject(token);
    const environment = environmentId ? await resolver.resolveAuthenticatedEnv(environmentId) : null;
    if (!environment || environment.archivedAt) throw new UnauthorizedError("Invalid Public Access Token");
    const verified = await verifyPublicToken(token, environment.apiKey);
    if (!verified.ok) throw new UnauthorizedError(verified.error);
    const claims = verified.claims as { scopes?: string[]; otu?: boolean };
    return { type: "PUBLIC_JWT", environment, scopes: claims.scopes ?? [], token, oneTimeUse: claims.otu === true };
  }

  if (!token.startsWith("tr_")) throw new UnauthorizedError("Invalid or Missing API key");
  const environment = await resolver.resolveEnvByApiKey(token);
  // resolveEnvByApiKey also answers for public keys; only the secret key authenticates here.
  if (!environment || environment.apiKey !== token || environment.archivedAt) {
    throw new UnauthorizedError("Invalid API key");
  }
  return { type: "SECRET_KEY", environment };
}

/** Secret keys may do anything in their environment; a token needs the scope `allowed` checks. */
export function requireScope(auth: ApiAuthentication, allowed: (scopes: string[]) => boolean): void {
  if (auth.type === "SECRET_KEY") return;
  if (!allowed(auth.scopes)) throw new ForbiddenError("Unauthorized: the Public Access Token lacks the required scope");
}
