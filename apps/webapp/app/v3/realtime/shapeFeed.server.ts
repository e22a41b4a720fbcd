import { createHash } from "node:crypto";
import {
  buildMustRefetchResponse,
  buildShapeResponse,
  deriveShapeHandle,
  formatOffset,
  needsRefetch,
  runShapeChanges,
  runShapeKey,
  runShapeSchema,
  runToShapeRow,
  type ShapeHttpResponse,
  type ShapeRequest,
  type ShapeRowChange,
} from "@runplane/core/realtime";
import type { ChangesSince, RealtimeChangeLog } from "./changeLog.server";
import type { ChangeSignal, RealtimeChangeRouter } from "./changeRouter.server";
import type { RealtimeRun, RealtimeRunSource, RunSetFilter } from "./runSource.server";

/**
 * What a feed serves. `run`: one run (loaded and authorised by the caller); `runs`: the runs of a
 * tag or batch filter. `definition` names the shape (with the skipped columns, it makes the handle).
 */
export type ShapeDefinition =
  | { kind: "run"; environmentId: string; run: RealtimeRun; skipColumns: string[] }
  | { kind: "runs"; environmentId: string; filter: RunSetFilter; definition: string[]; skipColumns: string[] };

export type ShapeFeedDeps = {
  changeLog: Pick<RealtimeChangeLog, "changesSince">;
  router: Pick<RealtimeChangeRouter, "listen" | "isClosed">;
  source: RealtimeRunSource;
  /** How long a live request waits for a change before answering `up-to-date` alone. */
  holdMs: number;
  /** Rows of a tag or batch feed. Default 1000. */
  maxRows?: number;
  /** Changed runs read from the log per check before falling back to a full refresh. Default 1000. */
  maxChanges?: number;
  /** Quiet time after a wake-up before a tag/batch feed re-reads (coalesces bursts). Default 20 ms. */
  coalesceMs?: number;
};

/**
 * Offsets are `<seq>_<mark>`: `seq` is the environment's change-log position the client has seen
 * (so two changes in one millisecond are two positions), `mark` says what the client holds —
 * for a run feed a fingerprint of the row it has (an unchanged row is never sent twice), for tag and
 * batch feeds the newest `updatedAt` it was sent (the periodic refresh sends rows newer than that,
 * catching writes that bypassed the change log; a row created after it is an `insert`).
 */
type Position = { seq: number; mark: number };

function rowFingerprint(row: RealtimeRun, skipColumns: string[]): number {
  const digest = createHash("sha256").update(JSON.stringify(runToShapeRow(row, { skipColumns }))).digest("hex");
  return parseInt(digest.slice(0, 12), 16);
}

function newestUpdatedAt(rows: readonly RealtimeRun[], floor: number): number {
  return rows.reduce((max, row) => Math.max(max, row.updatedAt.getTime()), floor);
}

class Wakeup {
  private waiter: (() => void) | null = null;
  private pending = false;

  notify(): void {
    if (this.waiter) {
      const resolve = this.waiter;
      this.waiter = null;
      resolve();
    } else {
      this.pending = true;
    }
  }

  /** Resolves true when notified, false at the deadline or on abort. */
  wait(untilMs: number, signal: AbortSignal): Promise<boolean> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const finish = (woken: boolean) => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        this.waiter = null;
        resolve(woken);
      };
      const onAbort = () => finish(false);
      const timer = setTimeout(() => finish(false), Math.max(0, untilMs - Date.now()));
      signal.addEventListener("abort", onAbort, { once: true });
      this.waiter = () => finish(true);
    });
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Answers one request of the Electric shape protocol for a run, tag or batch feed: the snapshot at
 * offset -1; otherwise the changes after the client's offset — immediately when not live, else held
 * until a change arrives (woken through Redis pub/sub, wherever the change happened) or `holdMs`
 * passes, in which case a full re-read catches writes the change log never saw.
 */
export async function serveShape(
  deps: ShapeFeedDeps,
  shape: ShapeDefinition,
  request: ShapeRequest,
  signal: AbortSignal
): Promise<ShapeHttpResponse> {
  const schema = runShapeSchema(shape.skipColumns);
  const skipColumns = shape.skipColumns;
  const handleFor = (epoch: string) =>
    deriveShapeHandle([
      shape.kind,
      shape.environmentId,
      ...(shape.kind === "run" ? [shape.run.id] : shape.definition),
      `skip:${[...skipColumns].sort().join(",")}`,
      `epoch:${epoch}`,
    ]);
  const respond = (rows: ShapeRowChange[], handle: string, position: Position, live: boolean) =>
    buildShapeResponse({
      rows,
      handle,
      offset: formatOffset(position.seq, position.mark),
      upToDate: true,
      live,
      schema,
      requestCursor: request.cursor,
    });

  const offset = request.parsedOffset;
  if (offset.kind !== "log") {
    const log = await deps.changeLog.changesSince(shape.environmentId, -1);
    const handle = handleFor(log.epoch);
    if (offset.kind === "now") {
      // Electric's "skip the snapshot": nothing now, changes from here on.
      const mark = shape.kind === "run" ? rowFingerprint(shape.run, skipColumns) : Date.now();
      return respond([], handle, { seq: log.seq, mark }, false);
    }
    if (shape.kind === "run") {
      // Read after the log position: a change between the caller's read and that position is not lost.
      const run = (await deps.source.loadRun({ id: shape.environmentId }, shape.run.friendlyId)) ?? shape.run;
      return respond(runShapeChanges([run], "insert", skipColumns), handle, { seq: log.seq, mark: rowFingerprint(run, skipColumns) }, false);
    }
    const rows = await deps.source.listRuns({ id: shape.environmentId }, shape.filter, deps.maxRows ?? 1000);
    return respond(runShapeChanges(rows, "insert", skipColumns), handle, { seq: log.seq, mark: newestUpdatedAt(rows, 0) }, false);
  }

  const since = Number(offset.version);
  let position: Position = { seq: since, mark: offset.seq };
  const wake = new Wakeup();
  const relevant = (s: ChangeSignal) =>
    s.type === "resync" || shape.kind === "runs" || s.message.runIds.includes(shape.run.id);
  // A stopping instance answers at once; the client comes back to another one.
  const live = request.live && !deps.router.isClosed();
  const stopListening = live
    ? await deps.router.listen(shape.environmentId, (s) => {
        if (relevant(s)) wake.notify();
      })
    : () => {};

  try {
    let log = await deps.changeLog.changesSince(shape.environmentId, since, deps.maxChanges ?? 1000);
    const handle = handleFor(log.epoch);
    // Another epoch (the log expired or Redis was reset), or an offset from the future: start over.
    if (needsRefetch(request, handle) || since > log.seq) return buildMustRefetchResponse(handle);

    const deadline = Date.now() + (live ? deps.holdMs : 0);
    for (;;) {
      const found = await changedRows(deps, shape, log, position);
      if (found.rows.length > 0) return respond(found.rows, handle, found.position, request.live);
      position = found.position;

      if (signal.aborted || deps.router.isClosed() || Date.now() >= deadline) break;
      const woken = await wake.wait(deadline, signal);
      if (signal.aborted || deps.router.isClosed()) break;
      if (!woken) break;
      if (shape.kind === "runs" && deps.coalesceMs !== 0) await sleep(deps.coalesceMs ?? 20);
      log = await deps.changeLog.changesSince(shape.environmentId, position.seq, deps.maxChanges ?? 1000);
      if (handleFor(log.epoch) !== handle) return buildMustRefetchResponse(handleFor(log.epoch));
    }

    // Quiet until the deadline (or a non-live catch-up): one full re-read, for writes the log missed.
    if (!signal.aborted && !deps.router.isClosed()) {
      const refreshed = await refreshRows(deps, shape, position);
      if (refreshed.rows.length > 0) return respond(refreshed.rows, handle, refreshed.position, request.live);
    }
    return respond([], handle, position, request.live);
  } finally {
    stopListening();
  }
}

type Found = { rows: ShapeRowChange[]; position: Position };

/** The rows the log says changed after `position.seq` (all of them when the log cannot say). */
async function changedRows(deps: ShapeFeedDeps, shape: ShapeDefinition, log: ChangesSince, position: Position): Promise<Found> {
  const next: Position = { seq: log.seq, mark: position.mark };
  if (log.complete && log.runIds.length === 0) return { rows: [], position: next };

  if (shape.kind === "run") {
    if (log.complete && !log.runIds.includes(shape.run.id)) return { rows: [], position: next };
    return runFeedRow(deps, shape, next);
  }

  const rows = log.complete
    ? await deps.source.findRuns({ id: shape.environmentId }, log.runIds, shape.filter)
    : await deps.source.listRuns({ id: shape.environmentId }, shape.filter, deps.maxRows ?? 1000);
  return { rows: setChanges(rows, position.mark, shape.skipColumns), position: { seq: log.seq, mark: newestUpdatedAt(rows, position.mark) } };
}

/** The periodic full re-read: the run if it differs from what the client holds; set rows newer than its mark. */
async function refreshRows(deps: ShapeFeedDeps, shape: ShapeDefinition, position: Position): Promise<Found> {
  if (shape.kind === "run") return runFeedRow(deps, shape, position);
  const rows = (await deps.source.listRuns({ id: shape.environmentId }, shape.filter, deps.maxRows ?? 1000)).filter(
    (row) => row.updatedAt.getTime() > position.mark
  );
  return { rows: setChanges(rows, position.mark, shape.skipColumns), position: { ...position, mark: newestUpdatedAt(rows, position.mark) } };
}

async function runFeedRow(deps: ShapeFeedDeps, shape: Extract<ShapeDefinition, { kind: "run" }>, position: Position): Promise<Found> {
  const row = await deps.source.loadRun({ id: shape.environmentId }, shape.run.friendlyId);
  if (!row) return { rows: [], position };
  const fingerprint = rowFingerprint(row, shape.skipColumns);
  if (fingerprint === position.mark) return { rows: [], position };
  return { rows: runShapeChanges([row], "update", shape.skipColumns), position: { ...position, mark: fingerprint } };
}

/** A row created after everything the client was sent cannot be in its view: an insert. */
function setChanges(rows: readonly RealtimeRun[], mark: number, skipColumns: string[]): ShapeRowChange[] {
  return rows.map((row) => ({
    key: runShapeKey(row),
    value: runToShapeRow(row, { skipColumns }),
    operation: row.createdAt.getTime() > mark ? "insert" : "update",
  }));
}
