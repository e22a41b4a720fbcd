import { apiQueries, engineStore } from "@internal/run-store";
import { toPublicRunStatus, type PublicRunStatus } from "@runplane/core/schemas";
import { toWaitpointTokenStatus, WAITPOINT_TOKEN_STATUSES, WaitpointTokenStatus } from "@runplane/core/schemas";
import { z } from "zod";
import type { EnvironmentScope } from "~/services/dashboardAuth.server";
import type { Runtime } from "~/services/runtime.server";
import { packet, timestamp, type Packet, type Timestamp } from "./format";
import { loadPage, type PageLinks } from "./pagination.server";
import { envPath, runPath } from "./paths";

const TokenFiltersSchema = z.object({
  status: WaitpointTokenStatus.optional().catch(undefined),
  tag: z.preprocess((v) => (typeof v === "string" && v.trim() ? v.trim() : undefined), z.string().max(128).optional()).catch(undefined),
});
export type TokenFilters = z.infer<typeof TokenFiltersSchema>;

const STATUS_FILTER: Record<WaitpointTokenStatus, { status: "PENDING" | "COMPLETED"; outputIsError?: boolean }> = {
  WAITING: { status: "PENDING" },
  COMPLETED: { status: "COMPLETED", outputIsError: false },
  TIMED_OUT: { status: "COMPLETED", outputIsError: true },
};

export type TokenRow = {
  friendlyId: string;
  href: string;
  status: WaitpointTokenStatus;
  createdAt: Timestamp;
  completedAt: Timestamp;
  timeoutAt: Timestamp;
  idempotencyKey: string | null;
  tags: string[];
  output: Packet;
};

export type TokensPage = PageLinks & {
  rows: TokenRow[];
  filters: TokenFilters;
  statusOptions: readonly WaitpointTokenStatus[];
};

/** Wait tokens (standalone MANUAL waitpoints, as the API lists them) of an environment, newest first. */
export async function presentWaitTokens(
  runtime: Pick<Runtime, "runStore">,
  scope: EnvironmentScope,
  url: URL,
  now: Date = new Date()
): Promise<TokensPage> {
  const filters = TokenFiltersSchema.parse({
    status: url.searchParams.get("status") || undefined,
    tag: url.searchParams.get("tag") ?? undefined,
  });
  const page = await loadPage(url, (query) =>
    apiQueries.listWaitpointTokenPage(runtime.runStore, {
      environmentId: scope.environment.id,
      statuses: filters.status ? [STATUS_FILTER[filters.status]] : undefined,
      tags: filters.tag ? [filters.tag] : undefined,
      ...query,
    })
  );
  return {
    rows: page.rows.map((w) => ({
      friendlyId: w.friendlyId,
      href: `${envPath(scope)}/waitpoints/${encodeURIComponent(w.friendlyId)}`,
      status: toWaitpointTokenStatus(w),
      createdAt: timestamp(w.createdAt, now),
      completedAt: timestamp(w.completedAt, now),
      timeoutAt: timestamp(w.completedAfter, now),
      idempotencyKey: w.userProvidedIdempotencyKey ? w.idempotencyKey : null,
      tags: w.tags,
      output: packet(w.output, w.outputType),
    })),
    nextHref: page.nextHref,
    previousHref: page.previousHref,
    filters,
    statusOptions: WAITPOINT_TOKEN_STATUSES,
  };
}

export type TokenDetailPage = TokenRow & {
  id: string;
  environmentId: string;
  canComplete: boolean;
  tokensHref: string;
  blockedRuns: { friendlyId: string; href: string; taskIdentifier: string; status: PublicRunStatus }[];
  moreBlockedRuns: number;
};

const BLOCKED_RUNS_SHOWN = 5;

/** One wait token of the environment, with the runs waiting on it. Null when not found here. */
export async function presentWaitToken(
  runtime: Pick<Runtime, "runStore">,
  scope: EnvironmentScope,
  friendlyId: string,
  now: Date = new Date()
): Promise<TokenDetailPage | null> {
  if (!/^waitpoint_[A-Za-z0-9]+$/.test(friendlyId)) return null;
  const w = await runtime.runStore.findWaitpoint({ friendlyId, environmentId: scope.environment.id });
  if (!w || w.type !== "MANUAL") return null;
  const blockedIds = await engineStore.findRunsBlockedBy(runtime.runStore, w.id);
  const runs = await Promise.all(
    blockedIds.slice(0, BLOCKED_RUNS_SHOWN).map((id) => runtime.runStore.findRun({ id, environmentId: scope.environment.id }))
  );
  const status = toWaitpointTokenStatus(w);
  return {
    id: w.id,
    environmentId: w.environmentId,
    friendlyId: w.friendlyId,
    href: `${envPath(scope)}/waitpoints/${encodeURIComponent(w.friendlyId)}`,
    tokensHref: `${envPath(scope)}/waitpoints`,
    status,
    canComplete: status === "WAITING",
    createdAt: timestamp(w.createdAt, now),
    completedAt: timestamp(w.completedAt, now),
    timeoutAt: timestamp(w.completedAfter, now),
    idempotencyKey: w.userProvidedIdempotencyKey ? w.idempotencyKey : null,
    tags: w.tags,
    output: packet(w.output, w.outputType),
    blockedRuns: runs.flatMap((run) =>
      run
        ? [{ friendlyId: run.friendlyId, href: runPath(scope, run.friendlyId), taskIdentifier: run.taskIdentifier, status: toPublicRunStatus(run.status) }]
        : []
    ),
    moreBlockedRuns: Math.max(0, blockedIds.length - BLOCKED_RUNS_SHOWN),
  };
}
