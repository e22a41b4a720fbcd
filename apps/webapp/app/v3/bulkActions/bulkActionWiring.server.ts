import { apiQueries, type RunStore } from "@internal/run-store";
import { BackgroundLoop } from "@runplane/core/lifecycle";
import type { ControlPlaneClient } from "@internal/database";
import type { Redis } from "ioredis";
import type { Env } from "~/env.server";
import type { Logger } from "~/services/logger.server";
import { cancelRunForApi } from "~/v3/runs/mutations/cancelRun.server";
import { replayRunForApi } from "~/v3/runs/mutations/replayRun.server";
import { listRunsForApi, runListWhere } from "~/v3/runs/listRunsForApi.server";
import { createBulkActionLease } from "./bulkActionLease.server";
import { BulkActionService } from "./bulkActionService.server";

/** The bulk action service over the webapp's own run list, cancel and replay paths (buffered runs included). */
export function createBulkActionService(input: { env: Env; prisma: ControlPlaneClient; runStore: RunStore; redis: Redis }): BulkActionService {
  const { env, prisma, runStore, redis } = input;
  return new BulkActionService({
    prisma,
    batchSize: env.BULK_ACTION_BATCH_SIZE,
    listRuns: async (environmentId, filters, after) => {
      const page = await listRunsForApi([{ id: environmentId, slug: "" }], { ...filters, after });
      return { ids: page.data.map((run) => run.id), next: page.pagination.next };
    },
    countRuns: async (environmentId, filters) => {
      const where = runListWhere(filters, new Date());
      return where ? apiQueries.countRuns(runStore, environmentId, where) : 0;
    },
    cancelRun: (environmentId, runId) => cancelRunForApi({ id: environmentId }, runId),
    replayRun: (environmentId, runId) => replayRunForApi({ id: environmentId }, runId, undefined),
    markRuns: (runIds, bulkActionId) => apiQueries.addBulkActionToRuns(runStore, runIds, bulkActionId),
    lease: createBulkActionLease(redis, env.REDIS_KEY_PREFIX),
  });
}

/** The background loop that advances pending bulk actions one batch per tick. */
export function bulkActionLoop(service: BulkActionService, logger: Logger): BackgroundLoop {
  return new BackgroundLoop({
    name: "bulk-actions",
    intervalMs: 500,
    tick: () => service.processNextBatch(),
    onError: (error) => logger.error("bulk action batch failed", { error: error instanceof Error ? error.message : String(error) }),
  });
}
