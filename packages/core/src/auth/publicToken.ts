/**
 * Public access tokens: short-lived JWTs a browser or a third party uses instead of a secret key.
 *
 * Format (what the published SDK signs itself, and what the server must mint and accept):
 * - HS256, signed with the UTF-8 bytes of the **environment's secret API key** (the parent
 *   environment's key for a branch);
 * - `iss` = `https://id.trigger.dev`, `aud` = `https://api.trigger.dev`;
 * - `sub` = environment id, `pub: true`, `scopes: string[]` (may be absent: no scopes),
 *   optional `otu` (one-time use), optional `realtime: { skipColumns? }`, `iat`, `exp`.
 *
 * The SDK signs locally whenever it holds a root key: `auth.createPublicToken` (default expiry
 * 15 minutes, claims from POST /api/v1/auth/jwt/claims), and after trigger / createBatch /
 * token-create responses that lack `x-trigger-jwt` (1 hour; 24 hours for wait tokens). So the
 * server verifies by loading the environment named by `sub` and checking against its key.
 */
import { createHash } from "node:crypto";
import { SignJWT, decodeJwt, errors as joseErrors, jwtVerify } from "jose";
import { z } from "zod";
import { ResponseHeader } from "../schemas/api/headers.js";

export const PUBLIC_TOKEN_ISSUER = "https://id.trigger.dev";
export const PUBLIC_TOKEN_AUDIENCE = "https://api.trigger.dev";
export const PUBLIC_TOKEN_ALGORITHM = "HS256";

export const PublicTokenClaims = z
  .object({
    sub: z.string().min(1),
    pub: z.literal(true),
    scopes: z.array(z.string()).default([]),
    otu: z.boolean().optional(),
    realtime: z.object({ skipColumns: z.array(z.string()).optional() }).optional(),
    iat: z.number().optional(),
    exp: z.number(),
  })
  .passthrough();
export type PublicTokenClaims = z.output<typeof PublicTokenClaims>;

function secretBytes(secretKey: string): Uint8Array {
  return new TextEncoder().encode(secretKey);
}

/** A quick look, no verification: a three-part JWT whose payload says `pub: true`. */
export function isPublicToken(token: string): boolean {
  try {
    return decodeJwt(token).pub === true;
  } catch {
    return false;
  }
}

/**
 * The unverified `sub`: which environment's key to verify with. Never trust it before
 * {@link verifyPublicToken} succeeds.
 */
export function peekPublicTokenSubject(token: string): string | undefined {
  try {
    const sub = decodeJwt(token).sub;
    return typeof sub === "string" && sub.length > 0 ? sub : undefined;
  } catch {
    return undefined;
  }
}

export interface SignPublicTokenInput {
  secretKey: string;
  environmentId: string;
  scopes: readonly string[];
  /** A jose time span (`"15m"`, `"1h"`), epoch seconds, or a Date. Default 15 minutes. */
  expirationTime?: string | number | Date;
  oneTimeUse?: boolean;
  realtime?: { skipColumns?: string[] };
}

export async function signPublicToken(input: SignPublicTokenInput): Promise<string> {
  const payload: Record<string, unknown> = { sub: input.environmentId, pub: true, scopes: [...input.scopes] };
  if (input.oneTimeUse) payload.otu = true;
  if (input.realtime) payload.realtime = input.realtime;
  return new SignJWT(payload)
    .setProtectedHeader({ alg: PUBLIC_TOKEN_ALGORITHM })
    .setIssuer(PUBLIC_TOKEN_ISSUER)
    .setAudience(PUBLIC_TOKEN_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(input.expirationTime ?? "15m")
    .sign(secretBytes(input.secretKey));
}

export type VerifyPublicTokenResult =
  | { ok: true; claims: PublicTokenClaims }
  | { ok: false; code: "expired" | "invalid"; error: string };

/** Checks signature, algorithm, issuer, audience, expiry and the claim shape. */
export async function verifyPublicToken(token: string, secretKey: string): Promise<VerifyPublicTokenResult> {
  try {
    const { payload } = await jwtVerify(token, secretBytes(secretKey), {
      issuer: PUBLIC_TOKEN_ISSUER,
      audience: PUBLIC_TOKEN_AUDIENCE,
      algorithms: [PUBLIC_TOKEN_ALGORITHM],
    });
    const claims = PublicTokenClaims.safeParse(payload);
    if (!claims.success) return { ok: false, code: "invalid", error: "Public Access Token has invalid claims" };
    return { ok: true, claims: claims.data };
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) return { ok: false, code: "expired", error: "Public Access Token has expired" };
    return { ok: false, code: "invalid", error: "Public Access Token is invalid" };
  }
}

/** The key a one-time-use token is remembered by once used (stored unique on the run or batch). */
export function oneTimeUseKey(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

// ---------------------------------------------------------------------------------------------
// Scopes: `action:type[:id]`, or the bare `admin`
// ---------------------------------------------------------------------------------------------

export type ParsedScope = { admin: true } | { admin: false; action: string; type: string; id?: string };

/** Everything after the second `:` is the id (ids may contain colons). `undefined` if malformed. */
export function parseScope(scope: string): ParsedScope | undefined {
  if (scope === "admin") return { admin: true };
  const first = scope.indexOf(":");
  if (first <= 0) return undefined;
  const second = scope.indexOf(":", first + 1);
  const action = scope.slice(0, first);
  const type = second === -1 ? scope.slice(first + 1) : scope.slice(first + 1, second);
  if (type.length === 0) return undefined;
  const id = second === -1 ? undefined : scope.slice(second + 1);
  if (id !== undefined && id.length === 0) return undefined;
  return { admin: false, action, type, id };
}

export type ScopeAction = "read" | "write" | "trigger" | "batchTrigger" | (string & {});

export interface ScopeRequest {
  action: ScopeAction;
  /** `runs`, `tasks`, `batch`, `tags`, `waitpoints`, … */
  resource: string;
  /** Absent for a type-level request (e.g. listing every run): then only id-less scopes match. */
  id?: string;
}

/**
 * Whether one scope list grants one request. `admin` grants everything; action `*` and type
 * `all` are wildcards; a scope without an id grants every id of its type.
 */
export function scopeAllows(scopes: readonly string[], request: ScopeRequest): boolean {
  for (const raw of scopes) {
    const scope = parseScope(raw);
    if (!scope) continue;
    if (scope.admin) return true;
    if (scope.action !== "*" && scope.action !== request.action) continue;
    if (scope.type !== "all" && scope.type !== request.resource) continue;
    if (scope.id === undefined || scope.id === request.id) return true;
  }
  return false;
}

/** Any one of the requests suffices. */
export function scopeAllowsAny(scopes: readonly string[], requests: readonly ScopeRequest[]): boolean {
  return requests.some((request) => scopeAllows(scopes, request));
}

// ---------------------------------------------------------------------------------------------
// Per-route checks
// ---------------------------------------------------------------------------------------------

export interface RunScopeTarget {
  friendlyId: string;
  taskIdentifier: string;
  tags: readonly string[];
  batchFriendlyId?: string | null;
}

/** Retrieve a run, subscribe to it, read its packets. */
export function canReadRun(scopes: readonly string[], run: RunScopeTarget): boolean {
  return scopeAllowsAny(scopes, [
    { action: "read", resource: "runs", id: run.friendlyId },
    { action: "read", resource: "tasks", id: run.taskIdentifier },
    ...run.tags.map((tag) => ({ action: "read", resource: "tags", id: tag })),
    ...(run.batchFriendlyId ? [{ action: "read", resource: "batch", id: run.batchFriendlyId }] : []),
  ]);
}

/** List runs: every run, or — with a task filter — each filtered task. */
export function canListRuns(scopes: readonly string[], taskFilter?: readonly string[]): boolean {
  if (scopeAllows(scopes, { action: "read", resource: "runs" })) return true;
  if (taskFilter && taskFilter.length > 0) {
    return taskFilter.every((task) => scopeAllows(scopes, { action: "read", resource: "tasks", id: task }));
  }
  return scopeAllows(scopes, { action: "read", resource: "tasks" });
}

export function canCancelRun(scopes: readonly string[], run: Pick<RunScopeTarget, "friendlyId" | "taskIdentifier">): boolean {
  return scopeAllowsAny(scopes, [
    { action: "write", resource: "runs", id: run.friendlyId },
    { action: "write", resource: "tasks", id: run.taskIdentifier },
  ]);
}

export function canResetIdempotencyKey(scopes: readonly string[]): boolean {
  return scopeAllows(scopes, { action: "write", resource: "runs" });
}

export function canTriggerTask(scopes: readonly string[], taskIdentifier: string): boolean {
  return scopeAllows(scopes, { action: "trigger", resource: "tasks", id: taskIdentifier });
}

/** Create a batch / stream its items: a type-level grant, or one per task the batch names. */
export function canBatchTrigger(scopes: readonly string[], taskIdentifiers: readonly string[]): boolean {
  if (scopeAllowsAny(scopes, [{ action: "batchTrigger", resource: "tasks" }, { action: "batchTrigger", resource: "batch" }])) {
    return true;
  }
  return (
    taskIdentifiers.length > 0 &&
    taskIdentifiers.every((task) => scopeAllows(scopes, { action: "batchTrigger", resource: "tasks", id: task }))
  );
}

/** Retrieve a batch, subscribe to its runs. */
export function canReadBatch(scopes: readonly string[], batchFriendlyId: string): boolean {
  return scopeAllowsAny(scopes, [
    { action: "read", resource: "batch", id: batchFriendlyId },
    { action: "read", resource: "runs" },
  ]);
}

export function canCompleteWaitpoint(scopes: readonly string[], waitpointFriendlyId: string): boolean {
  return scopeAllows(scopes, { action: "write", resource: "waitpoints", id: waitpointFriendlyId });
}

/** Realtime by tag: every run, every tag, or one of the requested tags. */
export function canSubscribeToTags(scopes: readonly string[], tags: readonly string[]): boolean {
  return scopeAllowsAny(scopes, [
    { action: "read", resource: "runs" },
    { action: "read", resource: "tags" },
    ...tags.map((tag) => ({ action: "read", resource: "tags", id: tag })),
  ]);
}

// ---------------------------------------------------------------------------------------------
// Tokens returned in response headers
// ---------------------------------------------------------------------------------------------

export interface ResponseTokenInput {
  secretKey: string;
  environmentId: string;
  realtime?: { skipColumns?: string[] };
}

async function tokenHeaders(input: ResponseTokenInput, scopes: string[], expirationTime: string) {
  const token = await signPublicToken({ ...input, scopes, expirationTime });
  return {
    [ResponseHeader.jwt]: token,
    // For clients that sign themselves when the token header is missing (a proxy stripped it).
    [ResponseHeader.jwtClaims]: JSON.stringify({ sub: input.environmentId, pub: true }),
  };
}

/** `x-trigger-jwt` for a trigger response: read the run, write its input streams; 1 hour. */
export function triggerResponseHeaders(input: ResponseTokenInput & { runFriendlyId: string }) {
  return tokenHeaders(input, [`read:runs:${input.runFriendlyId}`, `write:inputStreams:${input.runFriendlyId}`], "1h");
}

/** `x-trigger-jwt` for a createBatch response: read the batch; 1 hour. */
export function batchResponseHeaders(input: ResponseTokenInput & { batchFriendlyId: string }) {
  return tokenHeaders(input, [`read:batch:${input.batchFriendlyId}`], "1h");
}

/** `x-trigger-jwt` for a wait-token create response: complete the token; 24 hours. */
export function waitpointTokenResponseHeaders(input: ResponseTokenInput & { waitpointFriendlyId: string }) {
  return tokenHeaders(input, [`write:waitpoints:${input.waitpointFriendlyId}`], "24h");
}
