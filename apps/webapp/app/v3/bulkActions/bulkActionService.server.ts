import type { ControlPlaneClient } from "@internal/database";
import { ConflictError, NotFoundError, ValidationError, fromFriendlyId, generateCuid, toFriendlyId } from "@runplane/core";
import {
  BulkActionFilter,
  decodeCursor,
  encodeCursor,
  type BulkActionObject,
  type CreateBulkActionRequestBody,
  type ListRunsFilters,
} from "@runplane/core/schemas";
import { z } from "zod";
import { bulkFilterToListFilters } from "./bulkActionFilter.server";

export type BulkActionType = "CANCEL" | "REPLAY";
export type BulkActionStatus = "PENDING" | "COMPLETED" | "ABORTED";

/** What the service needs from the rest of the webapp (passed at boot; tests can pass their own wiring). */
export type BulkActionDeps = {
  prisma: ControlPlaneClient;
  /** One newest-first page of the environment's runs matching the filters, buffered runs included. */
  listRuns(environmentId: string, filters: ListRunsFilters, after: string | undefined): Promise<{ ids: string[]; next?: string }>;
  /** How many rows match now (the action's starting total; buffered runs are added as they are met). */
  countRuns(environmentId: string, filters: ListRunsFilters): Promise<number>;
  cancelRun(environmentId: string, runId: string): Promise<{ id: string }>;
  replayRun(environmentId: string, runId: string): Promise<{ id: string }>;
  /** Tags runs (internal ids) with the action, for `filter[bulkAction]`; returns the ids that carry it. */
  markRuns(runIds: string[], bulkActionFriendlyId: string): Promise<string[]>;
  /** A short exclusive lease on one action, so one batch runs at a time across instances. */
  lease(bulkActionId: string, ttlMs: number): Promise<{ release(): Promise<void> } | null>;
  batchSize: number;
  /** Runs mutated at once inside a batch. */
  concurrency?: number;
};

const Selection = z.union([z.object({ runIds: z.array(z.string()) }), z.object({ filter: z.unknown() })]);
const Cursor = z.object({
  offset: z.number().int().optional(),
  after: z.string().optional(),
  /** Every run is done; only tagging remains. */
  walked: z.boolean().optional(),
  /** Runs done while still buffered (no row to tag yet): tagged once the drainer writes them. */
  unmarked: z.array(z.string()).optional(),
});
const PageCursor = z.object({ c: z.number().int(), i: z.string() });

type Row = Awaited<ReturnType<ControlPlaneClient["bulkAction"]["findFirstOrThrow"]>>;

const LEASE_MS = 120_000;
/** How long a finished walk waits for its buffered runs to be written (and tagged) before completing anyway. */
const UNMARKED_GRACE_MS = 60_000;

/**
 * Bulk cancel and replay. `create` stores the action; `processNextBatch` (the background loop's tick)
 * advances one pending action by one batch, storing progress and its position, so a restart resumes
 * where it stopped and `abort` stops it between batches.
 */
export class BulkActionService {
  constructor(private readonly deps: BulkActionDeps) {}

  async create(environmentId: string, body: CreateBulkActionRequestBody): Promise<{ id: string }> {
    const id = generateCuid();
    const friendlyId = toFriendlyId("bulk", id);
    const createdAt = new Date();
    let total: number;
    let selection: z.infer<typeof Selection>;
    if (body.runIds) {
      const runIds = [...new Set(body.runIds)];
      for (const runId of runIds) if (!runId.startsWith("run_")) throw new ValidationError(`runIds: "${runId}" is not a run id`);
      selection = { runIds };
      total = runIds.length;
    } else {
      selection = { filter: body.filter };
      total = await this.deps.countRuns(environmentId, bulkFilterToListFilters(body.filter!, createdAt));
    }
    await this.deps.prisma.bulkAction.create({
      data: {
        id,
        friendlyId,
        runtimeEnvironmentId: environmentId,
        type: body.action === "cancel" ? "CANCEL" : "REPLAY",
        name: body.name,
        // dates of the filter are stored as ISO strings and coerced back when read
        selection: JSON.parse(JSON.stringify(selection)),
        total,
        createdAt,
      },
    });
    return { id: friendlyId };
  }

  async retrieve(environmentId: string, friendlyId: string): Promise<BulkActionObject> {
    return present(await this.#require(environmentId, friendlyId));
  }

  /** Newest first, cursor pages (`page[after]` / `page[before]`). */
  async list(environmentId: string, page: { size: number; after?: string; before?: string }): Promise<{ data: BulkActionObject[]; pagination: { next?: string; previous?: string } }> {
    if (page.after && page.before) throw new ValidationError("page[after] and page[before] cannot be combined");
    const position = (cursor: string | undefined, name: string) => {
      if (cursor === undefined) return undefined;
      const decoded = decodeCursor(cursor, PageCursor);
      if (!decoded) throw new ValidationError(`${name}: invalid cursor`);
      return { createdAt: new Date(decoded.c), id: decoded.i };
    };
    const after = position(page.after, "page[after]");
    const before = position(page.before, "page[before]");
    const bound = after ?? before;
    const cmp = after ? "lt" : "gt";
    const rows = await this.deps.prisma.bulkAction.findMany({
      where: {
        runtimeEnvironmentId: environmentId,
        ...(bound ? { OR: [{ createdAt: { [cmp]: bound.createdAt } }, { createdAt: bound.createdAt, id: { [cmp]: bound.id } }] } : {}),
      },
      orderBy: before ? [{ createdAt: "asc" }, { id: "asc" }] : [{ createdAt: "desc" }, { id: "desc" }],
      take: page.size + 1,
    });
    const hasMore = rows.length > page.size;
    const pageRows = rows.slice(0, page.size);
    if (before) pageRows.reverse();
    const cursorOf = (row: Row) => encodeCursor({ c: row.createdAt.getTime(), i: row.id });
    const pagination: { next?: string; previous?: string } = {};
    const first = pageRows[0];
    const last = pageRows[pageRows.length - 1];
    if (last && (before ? true : hasMore)) pagination.next = cursorOf(last);
    if (first && (before ? hasMore : after !== undefined)) pagination.previous = cursorOf(first);
    return { data: pageRows.map(present), pagination };
  }

  async abort(environmentId: string, friendlyId: string): Promise<{ id: string }> {
    const row = await this.#require(environmentId, friendlyId);
    const { count } = await this.deps.prisma.bulkAction.updateMany({
      where: { id: row.id, status: "PENDING" },
      data: { status: "ABORTED", completedAt: new Date() },
    });
    if (count === 0) throw new ConflictError(`Bulk action ${friendlyId} is already ${row.status.toLowerCase()}`);
    return { id: friendlyId };
  }

  /** Advances the oldest pending action that no other instance holds by one batch. Returns whether work remains. */
  async processNextBatch(): Promise<boolean> {
    const pending = await this.deps.prisma.bulkAction.findMany({ where: { status: "PENDING" }, orderBy: { createdAt: "asc" }, take: 10 });
    for (const action of pending) {
      const lease = await this.deps.lease(action.id, LEASE_MS);
      if (!lease) continue;
      let advanced: boolean;
      try {
        advanced = await this.#processBatch(action.id);
      } finally {
        await lease.release();
      }
      if (advanced) return true;
    }
    return false;
  }

  /** One batch of one action; false when there was nothing to do but wait (for buffered runs to be written). */
  async #processBatch(id: string): Promise<boolean> {
    // re-read under the lease: another instance may have advanced or finished it
    const action = await this.deps.prisma.bulkAction.findUnique({ where: { id } });
    if (!action || action.status !== "PENDING") return false;
    const selection = Selection.parse(action.selection);
    const cursor = Cursor.parse(action.cursor ?? {});
    if (cursor.walked) return this.#finishTagging(action, cursor);

    let ids: string[];
    let next: z.infer<typeof Cursor>;
    if ("runIds" in selection) {
      const offset = cursor.offset ?? 0;
      ids = selection.runIds.slice(offset, offset + this.deps.batchSize);
      next = offset + ids.length < selection.runIds.length ? { offset: offset + ids.length } : { walked: true };
    } else {
      const filter = BulkActionFilter.parse(selection.filter);
      const filters = { ...bulkFilterToListFilters(filter, action.createdAt), pageSize: this.deps.batchSize };
      const page = await this.deps.listRuns(action.runtimeEnvironmentId, filters, cursor.after);
      ids = page.ids;
      next = page.next ? { after: page.next } : { walked: true };
    }

    const touched: string[] = [];
    let success = 0;
    let failure = 0;
    const concurrency = this.deps.concurrency ?? 10;
    for (let i = 0; i < ids.length; i += concurrency) {
      const results = await Promise.allSettled(
        ids.slice(i, i + concurrency).map((runId) =>
          action.type === "CANCEL"
            ? this.deps.cancelRun(action.runtimeEnvironmentId, runId)
            : this.deps.replayRun(action.runtimeEnvironmentId, runId)
        )
      );
      for (const result of results) {
        if (result.status === "fulfilled") {
          success++;
          touched.push(fromFriendlyId(result.value.id, "run"));
        } else {
          failure++;
        }
      }
    }
    const marked = new Set(await this.deps.markRuns(touched, action.friendlyId));
    const unmarked = [...(cursor.unmarked ?? []), ...touched.filter((runId) => !marked.has(runId))];

    const done = action.successCount + action.failureCount + success + failure;
    await this.deps.prisma.bulkAction.update({
      where: { id },
      data: {
        successCount: { increment: success },
        failureCount: { increment: failure },
        // buffered runs are found as the walk meets them: the total never reads less than the work done
        total: next.walked ? done : Math.max(action.total, done),
        cursor: { ...next, ...(unmarked.length > 0 ? { unmarked } : {}) },
      },
    });
    if (next.walked && unmarked.length === 0) await this.#complete(id);
    return true;
  }

  /** After the walk: tags runs that were buffered when done, once written; completes when none is left or after a grace period. */
  async #finishTagging(action: Row, cursor: z.infer<typeof Cursor>): Promise<boolean> {
    const pending = cursor.unmarked ?? [];
    const marked = new Set(await this.deps.markRuns(pending, action.friendlyId));
    const unmarked = pending.filter((runId) => !marked.has(runId));
    if (unmarked.length === 0 || Date.now() - action.updatedAt.getTime() > UNMARKED_GRACE_MS) {
      await this.#complete(action.id);
      return true;
    }
    if (unmarked.length < pending.length) {
      await this.deps.prisma.bulkAction.update({ where: { id: action.id }, data: { cursor: { walked: true, unmarked } } });
    }
    return false;
  }

  async #complete(id: string): Promise<void> {
    await this.deps.prisma.bulkAction.updateMany({ where: { id, status: "PENDING" }, data: { status: "COMPLETED", completedAt: new Date() } });
  }

  async #require(environmentId: string, friendlyId: string): Promise<Row> {
    const row = await this.deps.prisma.bulkAction.findFirst({ where: { friendlyId, runtimeEnvironmentId: environmentId } });
    if (!row) throw new NotFoundError(`Bulk action ${friendlyId} not found`);
    return row;
  }
}

function present(row: Row): BulkActionObject {
  return {
    id: row.friendlyId,
    name: row.name ?? undefined,
    type: row.type as BulkActionType,
    status: row.status as BulkActionStatus,
    counts: { total: row.total, success: row.successCount, failure: row.failureCount },
    createdAt: row.createdAt,
    completedAt: row.completedAt ?? undefined,
  };
}
