import type { AuthenticatedEnvironment } from "@internal/database/resolver";
import type { RunStore, RunTablesPrisma } from "@internal/run-store";
import { toFriendlyId } from "@runplane/core";
import type { RunShapeSource } from "@runplane/core/realtime";
import { findRunForApi, type ApiRun } from "~/v3/runs/findRunForApi.server";

/**
 * A run as the realtime feeds see it: the shape row's source, plus what authorisation needs.
 * `isBuffered` marks a synthetic run that exists only in the mollifier buffer so far.
 */
export type RealtimeRun = RunShapeSource & {
  runtimeEnvironmentId: string;
  /** Internal batch id, if the run belongs to one. */
  batchId: string | null;
  runTags: string[];
  isBuffered?: boolean;
};

/** The runs of a tag or batch feed. */
export type RunSetFilter =
  | { kind: "tags"; tags: string[]; createdAfter: Date; tasks?: string[] }
  | { kind: "batch"; batchId: string };

/** Where the realtime feeds read runs: the run store (either database), plus extension points. */
export type RealtimeRunSource = {
  /** One run of `env` by friendly id, or null (unknown, or another environment's). */
  loadRun(env: Pick<AuthenticatedEnvironment, "id">, friendlyId: string): Promise<RealtimeRun | null>;
  /** The runs of `env` matching `filter`, oldest first, at most `limit`. */
  listRuns(env: Pick<AuthenticatedEnvironment, "id">, filter: RunSetFilter, limit: number): Promise<RealtimeRun[]>;
  /** Among `runIds` (internal), those of `env` matching `filter`. */
  findRuns(env: Pick<AuthenticatedEnvironment, "id">, runIds: string[], filter: RunSetFilter): Promise<RealtimeRun[]>;
};

export const REALTIME_RUN_SELECT = {
  id: true,
  friendlyId: true,
  runtimeEnvironmentId: true,
  taskIdentifier: true,
  status: true,
  createdAt: true,
  updatedAt: true,
  startedAt: true,
  delayUntil: true,
  queuedAt: true,
  expiredAt: true,
  completedAt: true,
  idempotencyKey: true,
  isTest: true,
  usageDurationMs: true,
  ttl: true,
  payload: true,
  payloadType: true,
  metadata: true,
  metadataType: true,
  output: true,
  outputType: true,
  runTags: true,
  error: true,
  batchId: true,
} as const satisfies RunTablesPrisma.TaskRunSelect;

type SelectedRun = RunTablesPrisma.TaskRunGetPayload<{ select: typeof REALTIME_RUN_SELECT }>;

function toRealtimeRun(run: SelectedRun | ApiRun): RealtimeRun {
  // `number`, costs and realtimeStreams are not stored: the shape encodes them as 0 / [].
  return { ...run, runTags: run.runTags ?? [] };
}

/** The batch's friendly id, for `canReadRun`'s `read:batch:<id>` scopes. */
export function batchFriendlyIdOf(run: Pick<RealtimeRun, "batchId">): string | null {
  return run.batchId ? toFriendlyId("batch", run.batchId) : null;
}

function filterWhere(filter: RunSetFilter): RunTablesPrisma.TaskRunWhereInput {
  return filter.kind === "tags"
    ? {
        runTags: { hasEvery: filter.tags },
        createdAt: { gte: filter.createdAfter },
        ...(filter.tasks ? { taskIdentifier: { in: filter.tasks } } : {}),
      }
    : { batchId: filter.batchId };
}

const PAGE = 100;

/**
 * The feeds' source over the run store (routed by id shape, so split mode works). A run is looked up
 * by `loadRun` (default: the run store) and authorised after resolving: a run of another environment
 * is reported as missing. Sets (tags, batch) are read from the run store only.
 */
export function runStoreRunSource(
  runStore: Pick<RunStore, "findRun" | "listRuns">,
  loadRun?: RealtimeRunSource["loadRun"]
): RealtimeRunSource {
  async function page(env: { id: string }, where: RunTablesPrisma.TaskRunWhereInput, limit: number): Promise<RealtimeRun[]> {
    const out: RealtimeRun[] = [];
    let after: { createdAt: Date; id: string } | undefined;
    while (out.length < limit) {
      const rows = await runStore.listRuns({ environmentId: env.id, where, limit: Math.min(PAGE, limit - out.length), after });
      for (const row of rows) out.push(toRealtimeRun(row));
      if (rows.length < PAGE) break;
      const last = rows[rows.length - 1]!;
      after = { createdAt: last.createdAt, id: last.id };
    }
    // listRuns pages newest first; feeds send oldest first.
    return out.reverse();
  }

  return {
    loadRun:
      loadRun ??
      (async (env, friendlyId) => {
        const run = await runStore.findRun({ friendlyId }, REALTIME_RUN_SELECT);
        if (!run || run.runtimeEnvironmentId !== env.id) return null;
        return toRealtimeRun(run);
      }),
    listRuns(env, filter, limit) {
      return page(env, filterWhere(filter), limit);
    },
    async findRuns(env, runIds, filter) {
      if (runIds.length === 0) return [];
      return page(env, { AND: [{ id: { in: runIds } }, filterWhere(filter)] }, runIds.length);
    },
  };
}

/**
 * THE seam of the run feed: one run by friendly id, through the REST API's run lookup
 * (`findRunForApi`), so whatever that lookup learns — the mollifier answering a run still in the
 * burst buffer with a synthetic `isBuffered` run — the realtime feed serves too. A synthetic run
 * keeps its internal id when the drainer materialises it; the engine's `runCreated` event then
 * lands in the change log under that id and the feed re-reads the real row.
 */
export async function loadRun(env: Pick<AuthenticatedEnvironment, "id">, friendlyId: string): Promise<RealtimeRun | null> {
  const run = await findRunForApi(env, friendlyId);
  // findRunForApi is scoped to the environment; checked again after resolving all the same.
  if (!run || run.runtimeEnvironmentId !== env.id) return null;
  return toRealtimeRun(run);
}

/** The webapp's source: `loadRun` above for single runs, the run store for sets. */
export function createRealtimeRunSource(runStore: Pick<RunStore, "findRun" | "listRuns">): RealtimeRunSource {
  return runStoreRunSource(runStore, loadRun);
}
