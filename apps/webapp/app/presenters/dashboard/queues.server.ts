import type { EnvironmentScope } from "~/services/dashboardAuth.server";
import type { Runtime } from "~/services/runtime.server";
import { timestamp, type Timestamp } from "./format";
import { envPath } from "./paths";

export const QUEUES_PER_PAGE = 25;

export type QueueRow = {
  name: string;
  type: "NAMED" | "VIRTUAL" | "UNREGISTERED";
  queued: number;
  running: number;
  /** Runs of the queue blocked on waitpoints (they hold no environment slot). */
  blocked: number;
  /** Runs whose waitpoints completed, queued ahead of new runs for a slot ("continue" messages). */
  continuing: number;
  /** The queue's own limit; null = only the environment limit applies. */
  limit: number | null;
  /** The worker's declared limit while an operator override is active; undefined when not overridden. */
  overriddenFrom?: number | null;
  paused: boolean;
  /** The run queue (Redis) and the TaskQueue row disagree on the limit or pause. */
  drift: string | null;
  runsHref: string;
};

export type QueuesPage = {
  environment: {
    queued: number;
    running: number;
    /** Runs blocked on waitpoints and runs queued to continue, in every queue. */
    blocked: number;
    continuing: number;
    /** The limit the run queue enforces (its default until a worker registers and pushes the environment's). */
    limit: number;
    /** RuntimeEnvironment.maximumConcurrencyLimit. */
    configuredLimit: number;
    burstFactor: number;
    paused: boolean;
  };
  rows: QueueRow[];
  page: number;
  pageCount: number;
  refreshedAt: Timestamp;
};

function parseLimit(value: string | undefined): number | null {
  if (value === undefined || value === "") return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/**
 * Queues of an environment: the registered TaskQueue rows plus any queue that has messages in the
 * run queue, with live counts and limits read from the run queue (Redis) — the numbers dequeue obeys.
 */
export async function presentQueues(
  runtime: Pick<Runtime, "prisma" | "redis" | "engine">,
  scope: EnvironmentScope,
  url: URL,
  now: Date = new Date()
): Promise<QueuesPage> {
  const envId = scope.environment.id;
  const runQueue = runtime.engine.runQueue;
  const keys = runQueue.keys;

  const [rows, indexed, envMeta, envRunning, states] = await Promise.all([
    runtime.prisma.taskQueue.findMany({
      where: { runtimeEnvironmentId: envId },
      select: { name: true, type: true, concurrencyLimit: true, concurrencyLimitBase: true, concurrencyLimitOverriddenAt: true, paused: true },
    }),
    runtime.redis.zrange(keys.envQueues(envId), 0, -1),
    runtime.redis.hgetall(keys.envMeta(envId)),
    runQueue.currentConcurrency({ environmentId: envId }),
    runQueue.runStateCounts(envId),
  ]);
  const queueStates = states.get(envId)?.queues ?? new Map();
  let blockedTotal = 0;
  let continuingTotal = 0;
  for (const q of queueStates.values()) {
    blockedTotal += q.blocked;
    continuingTotal += q.continuing;
  }

  const byName = new Map(rows.map((row) => [row.name, row]));
  const names = [...new Set([...rows.map((r) => r.name), ...indexed])].sort((a, b) => a.localeCompare(b));
  const pageCount = Math.max(1, Math.ceil(names.length / QUEUES_PER_PAGE));
  const requested = Number.parseInt(url.searchParams.get("page") ?? "1", 10);
  const page = Number.isFinite(requested) ? Math.min(Math.max(1, requested), pageCount) : 1;
  const pageNames = names.slice((page - 1) * QUEUES_PER_PAGE, page * QUEUES_PER_PAGE);

  const base = envPath(scope);
  const queueRows = await Promise.all(
    pageNames.map(async (name): Promise<QueueRow> => {
      const [queued, running, meta] = await Promise.all([
        runQueue.lengthOfQueue(envId, name),
        runQueue.currentConcurrency({ environmentId: envId, queue: name }),
        runtime.redis.hgetall(keys.queueMeta(envId, name)),
      ]);
      const row = byName.get(name);
      const redisLimit = parseLimit(meta.limit);
      const redisPaused = meta.paused === "1";
      const drift: string[] = [];
      if (row && (row.concurrencyLimit ?? null) !== redisLimit) drift.push(`limit ${row.concurrencyLimit ?? "none"} in the database, ${redisLimit ?? "none"} in the run queue`);
      if (row && row.paused !== redisPaused) drift.push(`${row.paused ? "paused" : "running"} in the database, ${redisPaused ? "paused" : "running"} in the run queue`);
      return {
        name,
        type: row ? row.type : "UNREGISTERED",
        queued,
        running,
        blocked: queueStates.get(name)?.blocked ?? 0,
        continuing: queueStates.get(name)?.continuing ?? 0,
        limit: redisLimit ?? row?.concurrencyLimit ?? null,
        ...(row?.concurrencyLimitOverriddenAt ? { overriddenFrom: row.concurrencyLimitBase } : {}),
        paused: redisPaused || (row?.paused ?? false),
        drift: drift.length > 0 ? drift.join("; ") : null,
        runsHref: `${base}/runs?statuses=QUEUED&queue=${encodeURIComponent(name)}&period=all`,
      };
    })
  );

  const queuedTotal = (await Promise.all(indexed.map((name) => runQueue.lengthOfQueue(envId, name)))).reduce((a, b) => a + b, 0);
  return {
    environment: {
      queued: queuedTotal,
      running: envRunning,
      blocked: blockedTotal,
      continuing: continuingTotal,
      limit: parseLimit(envMeta.limit) ?? runQueue.options.defaultEnvConcurrencyLimit ?? 10,
      configuredLimit: scope.environment.maximumConcurrencyLimit,
      burstFactor: parseLimit(envMeta.burst) ?? 1,
      paused: envMeta.paused === "1" || scope.environment.paused,
    },
    rows: queueRows,
    page,
    pageCount,
    refreshedAt: timestamp(now, now),
  };
}
