import { apiQueries } from "@internal/run-store";
import { BATCH_STATUSES, BatchStatus, toPublicRunStatus, type PublicRunStatus } from "@runplane/core/schemas";
import { z } from "zod";
import type { EnvironmentScope } from "~/services/dashboardAuth.server";
import type { Runtime } from "~/services/runtime.server";
import { durationBetween, timestamp, type Timestamp } from "./format";
import { loadPage, type PageLinks } from "./pagination.server";
import { batchPath, envPath, runPath } from "./paths";
import { listRunsForDashboard } from "./runSource.server";

export type BatchRow = {
  friendlyId: string;
  href: string;
  runsHref: string;
  status: BatchStatus;
  runCount: number;
  expectedCount: number;
  completedCount: number;
  createdAt: Timestamp;
  completedAt: Timestamp;
  duration: string | null;
};

export type BatchesPage = PageLinks & { rows: BatchRow[]; status: BatchStatus | undefined; statusOptions: readonly BatchStatus[] };

type BatchLike = {
  friendlyId: string;
  status: string;
  runCount: number;
  expectedCount: number;
  completedCount: number;
  createdAt: Date;
  completedAt: Date | null;
};

function row(scope: EnvironmentScope, b: BatchLike, now: Date): BatchRow {
  const status = BatchStatus.catch("PENDING").parse(b.status);
  return {
    friendlyId: b.friendlyId,
    href: batchPath(scope, b.friendlyId),
    runsHref: `${envPath(scope)}/runs?batch=${encodeURIComponent(b.friendlyId)}&period=all`,
    status,
    runCount: b.runCount,
    expectedCount: b.expectedCount,
    completedCount: b.completedCount,
    createdAt: timestamp(b.createdAt, now),
    completedAt: timestamp(b.completedAt, now),
    duration: durationBetween(b.createdAt, b.completedAt, now),
  };
}

export async function presentBatches(
  runtime: Pick<Runtime, "runStore">,
  scope: EnvironmentScope,
  url: URL,
  now: Date = new Date()
): Promise<BatchesPage> {
  const status = BatchStatus.optional().catch(undefined).parse(url.searchParams.get("status") || undefined);
  const page = await loadPage(url, (query) =>
    apiQueries.listBatchPage(runtime.runStore, { environmentId: scope.environment.id, where: status ? { status } : {}, ...query })
  );
  return {
    rows: page.rows.map((b) => row(scope, b, now)),
    nextHref: page.nextHref,
    previousHref: page.previousHref,
    status,
    statusOptions: BATCH_STATUSES,
  };
}

export type BatchDetailPage = BatchRow & {
  idempotencyKey: string | null;
  sealed: boolean;
  sealedAt: Timestamp;
  successfulRunCount: number | null;
  failedRunCount: number | null;
  parentRun: { friendlyId: string; href: string } | null;
  /** The batch's newest runs (the full list is the runs page filtered by batch). */
  runs: { friendlyId: string; href: string; taskIdentifier: string; status: PublicRunStatus }[];
  moreRuns: boolean;
  errors: { index: number; taskIdentifier: string; code: string | null; message: string }[];
};

const RUNS_SHOWN = 25;

export async function presentBatch(
  runtime: Pick<Runtime, "runStore">,
  scope: EnvironmentScope,
  friendlyId: string,
  now: Date = new Date()
): Promise<BatchDetailPage | null> {
  if (!/^batch_[A-Za-z0-9]+$/.test(friendlyId)) return null;
  const batch = await runtime.runStore.findBatch({ friendlyId, environmentId: scope.environment.id });
  if (!batch) return null;
  const [errors, runs] = await Promise.all([
    apiQueries.listBatchErrors(runtime.runStore, batch.id),
    listRunsForDashboard(runtime, {
      environmentId: scope.environment.id,
      where: { batchId: batch.id },
      filters: { batchId: batch.friendlyId },
      limit: RUNS_SHOWN,
    }),
  ]);
  const parentFriendlyId = batch.parentRunId ? (batch.parentRunId.startsWith("run_") ? batch.parentRunId : `run_${batch.parentRunId}`) : null;
  return {
    ...row(scope, batch, now),
    idempotencyKey: batch.idempotencyKey,
    sealed: batch.sealed,
    sealedAt: timestamp(batch.sealedAt, now),
    successfulRunCount: batch.successfulRunCount,
    failedRunCount: batch.failedRunCount,
    parentRun: parentFriendlyId ? { friendlyId: parentFriendlyId, href: runPath(scope, parentFriendlyId) } : null,
    runs: runs.rows.map(({ run }) => ({
      friendlyId: run.friendlyId,
      href: runPath(scope, run.friendlyId),
      taskIdentifier: run.taskIdentifier,
      status: toPublicRunStatus(run.status),
    })),
    moreRuns: runs.hasMore,
    errors: errors.map((e) => ({ index: e.index, taskIdentifier: e.taskIdentifier, code: e.errorCode, message: e.error })),
  };
}
