import { fromFriendlyId, type Residency } from "@runplane/core";
import type { RunOpsPrisma, TaskRun, BatchTaskRun, Waitpoint } from "@internal/run-ops-database";
import { RunRouter, type RunStoreDatabases } from "./routing.js";
import type { RunTablesClient, RunTablesTx } from "./types.js";

export type RunLookup = ({ friendlyId: string } | { id: string }) & { environmentId?: string };

export type ListRunsQuery = {
  environmentId: string;
  where?: RunOpsPrisma.TaskRunWhereInput;
  /** Page size (1..100). */
  limit: number;
  /** Return runs strictly older than this (createdAt, id) position. */
  after?: { createdAt: Date; id: string };
};

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

  /** Newest first across both databases, keyset-paginated on (createdAt, id). */
  async listRuns(query: ListRunsQuery): Promise<TaskRun[]> {
    const where: RunOpsPrisma.TaskRunWhereInput = {
      AND: [
        { runtimeEnvironmentId: query.environmentId },
        query.where ?? {},
        query.after
          ? {
              OR: [
                { createdAt: { lt: query.after.createdAt } },
                { createdAt: query.after.createdAt, id: { lt: query.after.id } },
              ],
            }
          : {},
      ],
    };
    const pages = await Promise.all(
      this.router.all().map((client) =>
        client.taskRun.findMany({ where, orderBy: [{ createdAt: "desc" }, { id: "desc" }], take: query.limit })
      )
    );
    return pages
      .flat()
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
      .slice(0, query.limit);
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

  /** The database holding a waitpoint, or null when no database has it. */
  async waitpointClient(waitpointId: string): Promise<RunTablesClient | null> {
    for (const client of this.router.all()) {
      if (await client.waitpoint.findUnique({ where: { id: waitpointId }, select: { id: true } })) return client;
    }
    return null;
  }
}
