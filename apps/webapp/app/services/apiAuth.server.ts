import type { AuthenticatedEnvironment } from "@internal/database/resolver";
import { ForbiddenError, UnauthorizedError, UnprocessableError } from "@runplane/core";
import { isPublicToken, oneTimeUseKey, peekPublicTokenSubject, verifyPublicToken } from "@runplane/core/auth";
import { ErrorMessage, MISSING_SCOPE_BODY } from "@runplane/core/schemas";
import { withResponseFields } from "~/services/httpErrors.server";
import { getRuntime } from "~/services/runtime.server";

/** Who is calling the REST API: an environment's secret key (full access) or a public access token (scoped). */
export type ApiAuthentication =
  | { type: "SECRET_KEY"; environment: AuthenticatedEnvironment }
  | {
      type: "PUBLIC_JWT";
      environment: AuthenticatedEnvironment;
      scopes: string[];
      token: string;
      oneTimeUse: boolean;
      /** Epoch seconds. */
      expiresAt: number;
      realtime?: { skipColumns?: string[] };
    };

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

function noAuthorizationHeader(): UnauthorizedError {
  return withResponseFields(new UnauthorizedError(ErrorMessage.noAuthorizationHeader), {
    body: { title: "Unauthorized", status: 401, detail: "Send `Authorization: Bearer <secret key or public access token>`." },
  });
}

/**
 * Resolves the caller's environment through the control-plane resolver (cached). A missing header,
 * an unknown key, a token that fails verification, or a token on a secret-key-only route → 401.
 */
export async function authenticateApiRequest(request: Request, options: AuthenticateOptions = {}): Promise<ApiAuthentication> {
  if (!request.headers.get("authorization")) throw noAuthorizationHeader();
  const token = bearerToken(request);
  if (!token) throw new UnauthorizedError(ErrorMessage.invalidApiKey);
  const { resolver } = getRuntime();

  if (isPublicToken(token)) {
    if (!options.allowJwt) throw new UnauthorizedError(ErrorMessage.invalidApiKey);
    const environmentId = peekPublicTokenSubject(token);
    const environment = environmentId ? await resolver.resolveAuthenticatedEnv(environmentId) : null;
    if (!environment || environment.archivedAt) throw new UnauthorizedError(ErrorMessage.invalidPublicToken);
    const verified = await verifyPublicToken(token, environment.apiKey);
    if (!verified.ok) throw new UnauthorizedError(verified.code === "expired" ? verified.error : ErrorMessage.invalidPublicToken);
    const claims = verified.claims;
    return {
      type: "PUBLIC_JWT",
      environment,
      scopes: claims.scopes,
      token,
      oneTimeUse: claims.otu === true,
      expiresAt: claims.exp,
      realtime: claims.realtime,
    };
  }

  if (!token.startsWith("tr_")) throw new UnauthorizedError(ErrorMessage.invalidApiKey);
  const environment = await resolver.resolveEnvByApiKey(token);
  // resolveEnvByApiKey also answers for public keys; only the secret key authenticates here.
  if (!environment || environment.apiKey !== token || environment.archivedAt) {
    throw new UnauthorizedError(ErrorMessage.invalidApiKey);
  }
  return { type: "SECRET_KEY", environment };
}

/** 403 with the body the SDK exposes as `code` / `param` / `type`. */
export function missingScopeError(): ForbiddenError {
  const { error, ...rest } = MISSING_SCOPE_BODY;
  return withResponseFields(new ForbiddenError(error), { body: rest });
}

/** Secret keys may do anything in their environment; a token needs the scope `allowed` checks. */
export function requireScope(auth: ApiAuthentication, allowed: (scopes: string[]) => boolean): void {
  if (auth.type === "SECRET_KEY") return;
  if (!allowed(auth.scopes)) throw missingScopeError();
}

/**
 * A one-time-use token (`otu: true`) may start one run or batch. The first use claims the token's hash
 * in Redis until the token expires; a second use is a 422. Returns `release`, to call when the trigger
 * then fails, so the token stays usable. Other credentials pass through.
 */
export async function claimOneTimeUse(auth: ApiAuthentication, taskLabel: string): Promise<{ release(): Promise<void> }> {
  const none = { release: async () => {} };
  if (auth.type !== "PUBLIC_JWT" || !auth.oneTimeUse) return none;
  const { redis, env } = getRuntime();
  const key = `${env.REDIS_KEY_PREFIX}api:otu:${oneTimeUseKey(auth.token)}`;
  const ttlMs = Math.max(1_000, auth.expiresAt * 1000 - Date.now() + 60_000);
  const claimed = await redis.set(key, "1", "PX", ttlMs, "NX");
  if (claimed !== "OK") throw new UnprocessableError(ErrorMessage.oneTimeTokenUsed(taskLabel));
  return { release: async () => void (await redis.del(key)) };
}
