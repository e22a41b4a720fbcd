import { fromFriendlyId, type Residency } from "@runplane/core";
import type { RunOpsPrisma, TaskRun, BatchTaskRun, BatchTaskRunError, Waitpoint } from "@internal/run-ops-database";
import { RunRouter, type RunStoreDatabases } from "./routing.js";
import type { RunTablesClient, RunTablesTx } from "./types.js";

export type RunLookup = ({ friendlyId: string } | { id: string }) & { environmentId?: string };

/** A (createdAt, id) position in a newest-first list. */
export type KeysetPosition = { createdAt: Date; id: string };

export type ListRunsQuery = {
  environmentId: string;
  where?: RunOpsPrisma.TaskRunWhereInput;
  /** Page size (1..100). */
  limit: number;
  /** Return runs strictly older than this (createdAt, id) position. */
  after?: KeysetPosition;
  /** Return the `limit` runs immediately newer than this position (still newest first). Ignored with `after`. */
  before?: KeysetPosition;
};

export type ListBatchesQuery = {
  environmentId: string;
  where?: RunOpsPrisma.BatchTaskRunWhereInput;
  limit: number;
  after?: KeysetPosition;
  before?: KeysetPosition;
};

export type ListWaitpointsQuery = {
  environmentId: string;
  where?: RunOpsPrisma.WaitpointWhereInput;
  limit: number;
  after?: KeysetPosition;
  before?: KeysetPosition;
};

type Keyed = { createdAt: Date; id: string };

/** The keyset condition and sort for one page; `reverse` when the rows come back oldest first. */
function keysetPage(after?: KeysetPosition, before?: KeysetPosition) {
  if (after) {
    return {
      where: { OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] },
      ascending: false,
    };
  }
  if (before) {
    return {
      where: { OR: [{ createdAt: { gt: before.createdAt } }, { createdAt: before.createdAt, id: { gt: before.id } }] },
      ascending: true,
    };
  }
  return { where: {}, ascending: false };
}

function compareNewestFirst(a: Keyed, b: Keyed): number {
  return b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/** Merges per-database pages into one newest-first page of `limit` rows. */
function mergePages<T extends Keyed>(pages: T[][], limit: number, ascending: boolean): T[] {
  const rows = pages.flat().sort(compareNewestFirst);
  // Paging towards newer rows keeps the `limit` oldest of them (those right after the cursor).
  return ascending ? rows.slice(Math.max(0, rows.length - limit)) : rows.slice(0, limit);
}

function idOf(lookup: RunLookup, prefix: "run" | "batch" | "waitpoint"): string {
  return "id" in lookup ? lookup.id : fromFriendlyId(lookup.friendlyId, prefix);
}

function envFilter(environmentId: string | undefined, column: "runtimeEnvironmentId" | "environmentId") {
  return environmentId ? { [column]: environmentId } : {};
}

/**
 * The one place that reads and writes run tables (TaskRun, snapshots, waitpoints, batches) in either
 * database. Every call is routed by the shape of the id it concerns; callers never see which database.
 */
export class RunStore {
  readonly router: RunRouter;

  constructor(dbs: RunStoreDatabases) {
    this.router = new RunRouter(dbs);
  }

  get splitEnabled(): boolean {
    return this.router.splitEnabled;
  }

  residencyOf(id: string): Residency {
    return this.router.residencyOf(id);
  }

  /** Runs `fn` in a transaction on the database that owns `ownerId` (a run, batch or waitpoint id). */
  transaction<T>(ownerId: string, fn: (tx: RunTablesTx) => Promise<T>): Promise<T> {
    return this.router.clientForId(fromFriendlyId(ownerId)).$transaction(fn);
  }

  /** The owning database of an id, for queries this class has no method for (engine internals). */
  clientFor(ownerId: string): RunTablesClient {
    return this.router.clientForId(fromFriendlyId(ownerId));
  }

  /** Every run-table database, for sweeps that must look at both (background jobs, cleanup). */
  allClients(): RunTablesClient[] {
    return this.router.all();
  }

  async findRun<S extends RunOpsPrisma.TaskRunSelect | undefined = undefined>(
    lookup: RunLookup,
    select?: S
  ): Promise<(S extends undefined ? TaskRun : RunOpsPrisma.TaskRunGetPayload<{ select: S }>) | null> {
    const id = idOf(lookup, "run");
    for (const client of this.router.readOrder(id)) {
      const run = await client.taskRun.findFirst({
        where: { id, ...envFilter(lookup.environmentId, "runtimeEnvironmentId") },
        ...(select ? { select } : {}),
      });
      if (run) return run as never;
    }
    return null;
  }

  /** Finds an unexpired idempotent run. Looks in every database: a key is unique per env+task. */
  async findRunByIdempotencyKey(input: {
    environmentId: string;
    taskIdentifier: string;
    idempotencyKey: string;
  }): Promise<TaskRun | null> {
    for (const client of this.router.all()) {
      const run = await client.taskRun.findFirst({
        where: {
          runtimeEnvironmentId: input.environmentId,
          taskIdentifier: input.taskIdentifier,
          idempotencyKey: input.idempotencyKey,
        },
      });
      if (run) return run;
    }
    return null;
  }

  /** Newest first across both databases, keyset-paginated on (createdAt, id) in either direction. */
  async listRuns(query: ListRunsQuery): Promise<TaskRun[]> {
    const page = keysetPage(query.after, query.before);
    const where: RunOpsPrisma.TaskRunWhereInput = {
      AND: [{ runtimeEnvironmentId: query.environmentId }, query.where ?? {}, page.where],
    };
    const direction = page.ascending ? "asc" : "desc";
    const pages = await Promise.all(
      this.router.all().map((client) =>
        client.taskRun.findMany({ where, orderBy: [{ createdAt: direction }, { id: direction }], take: query.limit })
      )
    );
    return mergePages(pages, query.limit, page.ascending);
  }

  async updateRun(id: string, data: RunOpsPrisma.TaskRunUpdateInput): Promise<TaskRun> {
    return this.clientFor(id).taskRun.update({ where: { id }, data });
  }

  async findBatch(lookup: RunLookup): Promise<BatchTaskRun | null> {
    const id = idOf(lookup, "batch");
    for (const client of this.router.readOrder(id)) {
      const batch = await client.batchTaskRun.findFirst({
        where: { id, ...envFilter(lookup.environmentId, "runtimeEnvironmentId") },
      });
      if (batch) return batch;
    }
    return null;
  }

  /** Batches of an environment, newest first across both databases, keyset-paginated like `listRuns`. */
  async listBatches(query: ListBatchesQuery): Promise<BatchTaskRun[]> {
    const page = keysetPage(query.after, query.before);
    const where: RunOpsPrisma.BatchTaskRunWhereInput = {
      AND: [{ runtimeEnvironmentId: query.environmentId }, query.where ?? {}, page.where],
    };
    const direction = page.ascending ? "asc" : "desc";
    const pages = await Promise.all(
      this.router.all().map((client) =>
        client.batchTaskRun.findMany({ where, orderBy: [{ createdAt: direction }, { id: direction }], take: query.limit })
      )
    );
    return mergePages(pages, query.limit, page.ascending);
  }

  /** The item errors recorded while a batch created its runs, by item index. */
  async listBatchErrors(batchId: string, limit = 100): Promise<BatchTaskRunError[]> {
    const id = fromFriendlyId(batchId, "batch");
    for (const client of this.router.readOrder(id)) {
      const errors = await client.batchTaskRunError.findMany({ where: { batchTaskRunId: id }, orderBy: { index: "asc" }, take: limit });
      if (errors.length > 0) return errors;
    }
    return [];
  }

  /**
   * Waitpoint ids are always cuids, so their shape says nothing: a run-owned waitpoint lives beside its
   * run (maybe run-ops), a standalone token on the control plane. Read run-ops first, then legacy.
   */
  async findWaitpoint(lookup: RunLookup): Promise<Waitpoint | null> {
    const id = idOf(lookup, "waitpoint");
    for (const client of this.router.all()) {
      const waitpoint = await client.waitpoint.findFirst({
        where: { id, ...envFilter(lookup.environmentId, "environmentId") },
      });
      if (waitpoint) return waitpoint;
    }
    return null;
  }

  /** Waitpoints of an environment (filter the type in `where`), newest first across both databases. */
  async listWaitpoints(query: ListWaitpointsQuery): Promise<Waitpoint[]> {
    const page = keysetPage(query.after, query.before);
    const where: RunOpsPrisma.WaitpointWhereInput = {
      AND: [{ environmentId: query.environmentId }, query.where ?? {}, page.where],
    };
    const direction = page.ascending ? "asc" : "desc";
    const pages = await Promise.all(
      this.router.all().map((client) =>
        client.waitpoint.findMany({ where, orderBy: [{ createdAt: direction }, { id: direction }], take: query.limit })
      )
    );
    return mergePages(pages, query.limit, page.ascending);
  }

  /** The database holding a waitpoint, or null when no database has it. */
  async waitpointClient(waitpointId: string): Promise<RunTablesClient | null> {
    for (const client of this.router.all()) {
      if (await client.waitpoint.findUnique({ where: { id: waitpointId }, select: { id: true } })) return client;
    }
    return null;
  }
}
