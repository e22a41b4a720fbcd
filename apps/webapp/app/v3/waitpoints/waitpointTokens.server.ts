import { createHmac, timingSafeEqual } from "node:crypto";
import type { AuthenticatedEnvironment } from "@internal/database/resolver";
import { apiQueries, type Waitpoint } from "@internal/run-store";
import { fromFriendlyId, NotFoundError, UnauthorizedError, UnprocessableError, ValidationError } from "@runplane/core";
import {
  MAX_TAGS_PER_RUN,
  WaitpointRetrieveTokenResponse,
  WaitpointTokenItem,
  decodeCursor,
  encodeCursor,
  normalizeTags,
  parseDurationMs,
  resolveDelay,
  toWaitpointTokenStatus,
  type CreateWaitpointTokenRequestBody,
  type ListWaitpointTokensFilters,
  type WaitpointTokenStatus,
} from "@runplane/core/schemas";
import { z } from "zod";
import { toEngineEnvironment } from "~/runEngine/services/triggerTask.server";
import { findRunForApi } from "~/v3/runs/findRunForApi.server";
import { getRuntime } from "~/services/runtime.server";

/** The secret part of a token's callback URL: HMAC-SHA256 of its id under the environment's secret key. */
export function callbackHash(waitpointId: string, secretKey: string): string {
  return createHmac("sha256", secretKey).update(waitpointId).digest("hex");
}

export function callbackUrl(waitpoint: Pick<Waitpoint, "id" | "friendlyId">, environment: Pick<AuthenticatedEnvironment, "apiKey">): string {
  const origin = getRuntime().env.APP_ORIGIN;
  return `${origin}/api/v1/waitpoints/tokens/${waitpoint.friendlyId}/callback/${callbackHash(waitpoint.id, environment.apiKey)}`;
}

/** Wait tokens are the MANUAL waitpoints, standalone or run-owned (created from inside a run). */
function isWaitToken(waitpoint: Waitpoint): boolean {
  return waitpoint.type === "MANUAL";
}

function tokenItem(waitpoint: Waitpoint, environment: AuthenticatedEnvironment): z.input<typeof WaitpointTokenItem> {
  return {
    id: waitpoint.friendlyId,
    url: callbackUrl(waitpoint, environment),
    status: toWaitpointTokenStatus(waitpoint),
    completedAt: waitpoint.completedAt,
    timeoutAt: waitpoint.completedAfter,
    idempotencyKey: waitpoint.userProvidedIdempotencyKey ? waitpoint.idempotencyKey : null,
    idempotencyKeyExpiresAt: waitpoint.userProvidedIdempotencyKey ? waitpoint.idempotencyKeyExpiresAt : null,
    tags: waitpoint.tags,
    createdAt: waitpoint.createdAt,
  };
}

/** POST /api/v1/waitpoints/tokens: a token that completes by API call, callback URL, or timeout. */
export async function createWaitpointToken(environment: AuthenticatedEnvironment, body: CreateWaitpointTokenRequestBody) {
  const tags = normalizeTags(body.tags);
  if (tags.length > MAX_TAGS_PER_RUN) throw new UnprocessableError(`Waitpoints can only have ${MAX_TAGS_PER_RUN} tags, you're trying to set ${tags.length}.`);
  let timeout: Date | undefined;
  if (body.timeout !== undefined) {
    timeout = resolveDelay(body.timeout);
    if (!timeout) throw new ValidationError(`timeout: invalid duration or date "${String(body.timeout)}"`);
  }
  // A run-owned token lives beside its run; the run must be one of this environment's (buffered too).
  const owner = body.ownerRunId ? await findRunForApi(environment, body.ownerRunId) : undefined;
  if (body.ownerRunId && !owner) throw new NotFoundError(`ownerRunId: run ${body.ownerRunId} not found`);
  const { waitpoint, isCached } = await getRuntime().engine.createManualWaitpoint({
    environment: toEngineEnvironment(environment),
    ownerRunId: owner ? fromFriendlyId(owner.friendlyId, "run") : undefined,
    timeout,
    idempotencyKey: body.idempotencyKey,
    idempotencyKeyTTL: body.idempotencyKeyTTL && parseDurationMs(body.idempotencyKeyTTL) ? body.idempotencyKeyTTL : undefined,
    tags,
  });
  return { id: waitpoint.friendlyId, isCached, url: callbackUrl(waitpoint, environment) };
}

async function findToken(environment: { id: string }, friendlyId: string): Promise<Waitpoint> {
  const waitpoint = friendlyId.length <= 128 ? await getRuntime().runStore.findWaitpoint({ friendlyId, environmentId: environment.id }) : null;
  if (!waitpoint || !isWaitToken(waitpoint)) throw new NotFoundError("Waitpoint token not found");
  return waitpoint;
}

/** GET /api/v1/waitpoints/tokens/{id}: the token and its raw output packet. */
export async function retrieveWaitpointToken(environment: AuthenticatedEnvironment, friendlyId: string) {
  const waitpoint = await findToken(environment, friendlyId);
  return WaitpointRetrieveTokenResponse.parse({
    ...tokenItem(waitpoint, environment),
    output: waitpoint.status === "COMPLETED" ? waitpoint.output : null,
    outputType: waitpoint.status === "COMPLETED" ? waitpoint.outputType : null,
    outputIsError: waitpoint.status === "COMPLETED" ? waitpoint.outputIsError : null,
  });
}

/** The data a caller completes a token with, as a stored packet (JSON). */
function outputPacket(data: unknown): { output?: string; outputType: string } {
  return data === undefined ? { outputType: "application/json" } : { output: JSON.stringify(data), outputType: "application/json" };
}

/** POST …/complete: first completion wins; completing again is a no-op success. Every waiting run wakes. */
export async function completeWaitpointToken(environment: { id: string }, friendlyId: string, data: unknown): Promise<{ success: true }> {
  const waitpoint = await findToken(environment, friendlyId);
  if (waitpoint.status !== "COMPLETED") {
    await getRuntime().engine.completeWaitpoint(waitpoint.id, { ...outputPacket(data), environmentId: environment.id });
  }
  return { success: true };
}

/** POST …/callback/{hash} (no API key): the hash proves the caller got the URL from us. */
export async function completeWaitpointTokenByCallback(friendlyId: string, hash: string, data: unknown): Promise<{ success: true }> {
  const { runStore, resolver } = getRuntime();
  const waitpoint = friendlyId.length <= 128 ? await runStore.findWaitpoint({ friendlyId }) : null;
  if (!waitpoint || !isWaitToken(waitpoint)) throw new NotFoundError("Waitpoint token not found");
  const environment = await resolver.resolveAuthenticatedEnv(waitpoint.environmentId);
  if (!environment) throw new NotFoundError("Waitpoint token not found");
  const expected = Buffer.from(callbackHash(waitpoint.id, environment.apiKey), "utf8");
  const given = Buffer.from(hash, "utf8");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new UnauthorizedError("Invalid callback hash");
  return completeWaitpointToken(environment, friendlyId, data);
}

const Cursor = z.object({ c: z.number().int(), i: z.string().min(1) });

function position(cursor: string | undefined, name: string) {
  if (cursor === undefined) return undefined;
  const decoded = decodeCursor(cursor, Cursor);
  if (!decoded) throw new ValidationError(`${name}: invalid cursor`);
  return { createdAt: new Date(decoded.c), id: decoded.i };
}

const STATUS_FILTER: Record<WaitpointTokenStatus, { status: "PENDING" | "COMPLETED"; outputIsError?: boolean }> = {
  WAITING: { status: "PENDING" },
  COMPLETED: { status: "COMPLETED", outputIsError: false },
  TIMED_OUT: { status: "COMPLETED", outputIsError: true },
};

/** GET /api/v1/waitpoints/tokens: newest first, filters, cursor pages. */
export async function listWaitpointTokens(environment: AuthenticatedEnvironment, filters: ListWaitpointTokensFilters) {
  if (filters.after && filters.before) throw new ValidationError("page[after] and page[before] cannot be combined");
  const after = position(filters.after, "page[after]");
  const before = position(filters.before, "page[before]");
  let createdFrom = filters.createdFrom;
  if (filters.period) {
    const ms = parseDurationMs(filters.period);
    if (ms === undefined) throw new ValidationError(`filter[createdAt][period]: invalid duration "${filters.period}"`);
    const since = new Date(Date.now() - ms);
    if (!createdFrom || since > createdFrom) createdFrom = since;
  }
  const { rows, hasMore } = await apiQueries.listWaitpointTokenPage(getRuntime().runStore, {
    environmentId: environment.id,
    statuses: filters.statuses?.map((status) => STATUS_FILTER[status]),
    idempotencyKey: filters.idempotencyKey,
    tags: filters.tags,
    createdFrom,
    createdTo: filters.createdTo,
    limit: filters.pageSize,
    after,
    before,
  });
  const cursorOf = (row: Waitpoint) => encodeCursor({ c: row.createdAt.getTime(), i: row.id });
  const first = rows[0];
  const last = rows[rows.length - 1];
  const pagination: { next?: string; previous?: string } = {};
  if (last && (before !== undefined || hasMore)) pagination.next = cursorOf(last);
  if (first && (before !== undefined ? hasMore : after !== undefined)) pagination.previous = cursorOf(first);
  return { data: rows.map((row) => WaitpointTokenItem.parse(tokenItem(row, environment))), pagination };
}
