import { isPublicToken, peekPublicTokenSubject, verifyPublicToken } from "@runplane/core/auth";
import { ResponseHeader } from "@runplane/core/schemas";
import type { Runtime } from "~/services/runtime.server";
import { TokenBucketLimiter, type TokenBucketDecision } from "./tokenBucket.server";

/**
 * Paths under /api/ that are never limited: the token callback URL (called by third parties, guarded
 * by its hash), JWT claims (the SDK calls it before signing), packets, and the worker protocol (the
 * execution plane polls it; it is not the public API).
 */
const EXEMPT: RegExp[] = [
  /^\/api\/v1\/waitpoints\/tokens\/[^/]+\/callback\/[^/]+\/?$/,
  /^\/api\/v1\/auth\/jwt\/claims\/?$/,
  /^\/api\/v[12]\/packets\//,
  /^\/api\/v1\/timezones\/?$/,
  /^\/api\/v1\/worker\//,
];

export function isRateLimitExempt(path: string): boolean {
  return !path.startsWith("/api/") || EXEMPT.some((pattern) => pattern.test(path));
}

export type ApiRateLimitResult =
  | { limited: false; headers: Record<string, string> }
  | { limited: true; headers: Record<string, string>; status: 429; body: Record<string, unknown> };

function bearer(authorization: string | undefined): string | undefined {
  const match = authorization ? /^Bearer\s+(.+)$/i.exec(authorization.trim()) : null;
  return match?.[1]?.trim() || undefined;
}

/**
 * The per-environment API limiter (API_RATE_LIMIT_*): one token per request. The environment comes
 * from the credential (secret key, or a verified public token's `sub`); requests without a usable
 * credential are left to the route, which answers 401.
 */
export class ApiRateLimiter {
  readonly #bucket: TokenBucketLimiter;

  constructor(private readonly runtime: Pick<Runtime, "env" | "redis" | "resolver">) {
    const { env } = runtime;
    this.#bucket = new TokenBucketLimiter(runtime.redis, `${env.REDIS_KEY_PREFIX}ratelimit:api:`, {
      size: env.API_RATE_LIMIT_BUCKET_SIZE,
      refill: env.API_RATE_LIMIT_REFILL_RATE,
      intervalMs: env.API_RATE_LIMIT_REFILL_INTERVAL_MS,
    });
  }

  async check(path: string, authorization: string | undefined): Promise<ApiRateLimitResult> {
    if (!this.runtime.env.API_RATE_LIMIT_ENABLED || isRateLimitExempt(path)) return { limited: false, headers: {} };
    const environmentId = await this.#environmentOf(bearer(authorization));
    if (!environmentId) return { limited: false, headers: {} };
    return toResult(await this.#bucket.take(environmentId));
  }

  async #environmentOf(token: string | undefined): Promise<string | undefined> {
    if (!token) return undefined;
    if (isPublicToken(token)) {
      const sub = peekPublicTokenSubject(token);
      const env = sub ? await this.runtime.resolver.resolveAuthenticatedEnv(sub) : null;
      if (!env) return undefined;
      // Only a genuine token may spend its environment's budget.
      return (await verifyPublicToken(token, env.apiKey)).ok ? env.id : undefined;
    }
    if (!token.startsWith("tr_")) return undefined;
    const env = await this.runtime.resolver.resolveEnvByApiKey(token);
    return env && env.apiKey === token ? env.id : undefined;
  }
}

function toResult(decision: TokenBucketDecision): ApiRateLimitResult {
  const headers: Record<string, string> = {
    [ResponseHeader.rateLimitLimit]: String(decision.limit),
    [ResponseHeader.rateLimitRemaining]: String(decision.remaining),
    [ResponseHeader.rateLimitReset]: String(decision.resetAt),
  };
  if (decision.allowed) return { limited: false, headers };
  const retryAfterMs = Math.max(0, decision.resetAt - Date.now());
  headers[ResponseHeader.retryAfter] = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
  const detail = `Rate limit exceeded: ${decision.limit} requests per bucket. Retry after ${new Date(decision.resetAt).toISOString()}.`;
  return {
    limited: true,
    headers,
    status: 429,
    body: { title: "Too Many Requests", status: 429, error: "Rate limit exceeded", code: "rate_limited", detail },
  };
}
