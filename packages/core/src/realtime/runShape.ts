/**
 * Run rows for the realtime feeds (`GET /realtime/v1/runs/{id}`, `/realtime/v1/runs?tags=…`,
 * `/realtime/v1/batches/{id}`), encoded the way the SDK's `SubscribeRunRawShape` parses them
 * after `@electric-sql/client` has decoded them with the schema below.
 *
 * What the SDK does with a row: `friendlyId` becomes `run.id`; `status` is the **internal**
 * status, mapped by the client itself (unknown → QUEUED); timestamps get a `Z` appended before
 * parsing, so they are sent as ISO strings **without** the `Z` (a value that already has one
 * becomes an invalid date and breaks the stream); `payload`, `output` and `metadata` are raw
 * packet strings the client parses by their `*Type` (fetching `application/store` packets through
 * the packets API); `completedAt` set means finished, which ends `subscribeToRun`.
 */
import { TaskRunError } from "../schemas/api/common.js";
import type { ShapeRowChange, ShapeSchema, ShapeValue } from "./shapeProtocol.js";

export const RUN_SHAPE_SCHEMA = {
  id: { type: "text" },
  taskIdentifier: { type: "text" },
  friendlyId: { type: "text" },
  status: { type: "text" },
  createdAt: { type: "timestamp" },
  updatedAt: { type: "timestamp" },
  startedAt: { type: "timestamp" },
  delayUntil: { type: "timestamp" },
  queuedAt: { type: "timestamp" },
  expiredAt: { type: "timestamp" },
  completedAt: { type: "timestamp" },
  idempotencyKey: { type: "text" },
  number: { type: "int4" },
  isTest: { type: "bool" },
  usageDurationMs: { type: "int4" },
  costInCents: { type: "float8" },
  baseCostInCents: { type: "float8" },
  ttl: { type: "text" },
  payload: { type: "text" },
  payloadType: { type: "text" },
  metadata: { type: "text" },
  metadataType: { type: "text" },
  output: { type: "text" },
  outputType: { type: "text" },
  runTags: { type: "text", dims: 1 },
  error: { type: "jsonb" },
  realtimeStreams: { type: "text", dims: 1 },
} as const satisfies ShapeSchema;

export type RunShapeColumn = keyof typeof RUN_SHAPE_SCHEMA;
export const RUN_SHAPE_COLUMNS = Object.keys(RUN_SHAPE_SCHEMA) as RunShapeColumn[];

/**
 * Columns that are sent even when asked to skip them: the client's row schema requires them
 * (`updatedAt` included: skipping it would fail every row's parse).
 */
export const REQUIRED_RUN_SHAPE_COLUMNS: readonly RunShapeColumn[] = [
  "id",
  "friendlyId",
  "taskIdentifier",
  "status",
  "createdAt",
  "updatedAt",
];

/** The columns to skip: the query's `skipColumns` plus the token's `realtime.skipColumns`, minus the required ones. */
export function resolveSkipColumns(...sources: ReadonlyArray<readonly string[] | undefined>): RunShapeColumn[] {
  const out = new Set<RunShapeColumn>();
  for (const source of sources) {
    for (const column of source ?? []) {
      if ((RUN_SHAPE_COLUMNS as string[]).includes(column) && !REQUIRED_RUN_SHAPE_COLUMNS.includes(column as RunShapeColumn)) {
        out.add(column as RunShapeColumn);
      }
    }
  }
  return [...out];
}

export function runShapeSchema(skipColumns: readonly string[] = []): ShapeSchema {
  const skip = new Set(resolveSkipColumns(skipColumns));
  const schema: ShapeSchema = {};
  for (const column of RUN_SHAPE_COLUMNS) if (!skip.has(column)) schema[column] = { ...RUN_SHAPE_SCHEMA[column] };
  return schema;
}

/** What `runToShapeRow` reads: a TaskRun row, with the columns Runplane does not store optional. */
export interface RunShapeSource {
  id: string;
  friendlyId: string;
  taskIdentifier: string;
  status: string;
  createdAt: Date;
  updatedAt: Date;
  startedAt?: Date | null;
  delayUntil?: Date | null;
  queuedAt?: Date | null;
  expiredAt?: Date | null;
  completedAt?: Date | null;
  idempotencyKey?: string | null;
  number?: number | null;
  isTest: boolean;
  usageDurationMs?: number | null;
  costInCents?: number | null;
  baseCostInCents?: number | null;
  ttl?: string | null;
  payload?: string | null;
  payloadType?: string | null;
  metadata?: string | null;
  metadataType?: string | null;
  output?: string | null;
  outputType?: string | null;
  runTags?: readonly string[] | null;
  /** A TaskRunError (anything else is sent as a STRING_ERROR so the client can still parse the row). */
  error?: unknown;
  realtimeStreams?: readonly string[] | null;
}

// ---------------------------------------------------------------------------------------------
// Value encoders (Postgres text format, as Electric sends it)
// ---------------------------------------------------------------------------------------------

/** `2026-01-01T00:00:02.000` — UTC, millisecond precision, no `Z`. */
export function encodeShapeTimestamp(date: Date | null | undefined): string | null {
  if (!date) return null;
  if (Number.isNaN(date.getTime())) return null;
  return date.toISOString().slice(0, -1);
}

export function encodeShapeBool(value: boolean): string {
  return value ? "t" : "f";
}

export function encodeShapeNumber(value: number | null | undefined, fallback = 0): string {
  return String(typeof value === "number" && Number.isFinite(value) ? value : fallback);
}

/** A Postgres text-array literal: `{"a","b\"c"}`; every element quoted, `"` and `\` escaped. */
export function encodeShapeTextArray(values: readonly string[] | null | undefined): string | null {
  if (values === null || values === undefined) return null;
  return `{${values.map((v) => `"${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`).join(",")}}`;
}

/** The `error` column: a valid TaskRunError as JSON, anything else wrapped as a STRING_ERROR. */
export function encodeShapeRunError(error: unknown): string | null {
  if (error === null || error === undefined) return null;
  const parsed = TaskRunError.safeParse(error);
  if (parsed.success) return JSON.stringify(parsed.data);
  const raw =
    typeof error === "string"
      ? error
      : typeof (error as { message?: unknown }).message === "string"
        ? (error as { message: string }).message
        : JSON.stringify(error);
  return JSON.stringify({ type: "STRING_ERROR", raw });
}

/** The stable key of a run's row in every feed. */
export function runShapeKey(run: Pick<RunShapeSource, "id">): string {
  return `"public"."TaskRun"/"${run.id}"`;
}

/** A run → the row value the feeds send, minus skipped columns. */
export function runToShapeRow(run: RunShapeSource, options: { skipColumns?: readonly string[] } = {}): ShapeValue {
  const full: Record<RunShapeColumn, string | null> = {
    id: run.id,
    taskIdentifier: run.taskIdentifier,
    friendlyId: run.friendlyId,
    status: run.status,
    createdAt: encodeShapeTimestamp(run.createdAt),
    updatedAt: encodeShapeTimestamp(run.updatedAt),
    startedAt: encodeShapeTimestamp(run.startedAt),
    delayUntil: encodeShapeTimestamp(run.delayUntil),
    queuedAt: encodeShapeTimestamp(run.queuedAt),
    expiredAt: encodeShapeTimestamp(run.expiredAt),
    completedAt: encodeShapeTimestamp(run.completedAt),
    idempotencyKey: run.idempotencyKey ?? null,
    number: encodeShapeNumber(run.number),
    isTest: encodeShapeBool(run.isTest),
    usageDurationMs: encodeShapeNumber(run.usageDurationMs),
    costInCents: encodeShapeNumber(run.costInCents),
    baseCostInCents: encodeShapeNumber(run.baseCostInCents),
    ttl: run.ttl ?? null,
    payload: run.payload ?? null,
    payloadType: run.payloadType ?? null,
    metadata: run.metadata ?? null,
    metadataType: run.metadataType ?? null,
    output: run.output ?? null,
    outputType: run.outputType ?? null,
    runTags: encodeShapeTextArray(run.runTags ?? []),
    error: encodeShapeRunError(run.error),
    realtimeStreams: encodeShapeTextArray(run.realtimeStreams ?? []),
  };
  const skip = new Set(resolveSkipColumns(options.skipColumns ?? []));
  const value: ShapeValue = {};
  for (const column of RUN_SHAPE_COLUMNS) if (!skip.has(column)) value[column] = full[column];
  return value;
}

/**
 * The offset version for a set of rows: the newest `updatedAt` in milliseconds. Use it with
 * `formatOffset` when the feed has no change counter; a live request then returns the rows whose
 * `updatedAt` is strictly newer (two changes in the same millisecond need a counter instead).
 */
export function newestUpdatedAtMs(runs: ReadonlyArray<Pick<RunShapeSource, "updatedAt">>): number {
  let max = 0;
  for (const run of runs) max = Math.max(max, run.updatedAt.getTime());
  return max;
}

/** Runs → the change list for `buildShapeResponse` (`insert` for a snapshot, `update` for a live answer). */
export function runShapeChanges(
  runs: readonly RunShapeSource[],
  operation: "insert" | "update",
  skipColumns: readonly string[] = [],
): ShapeRowChange[] {
  return runs.map((run) => ({ key: runShapeKey(run), value: runToShapeRow(run, { skipColumns }), operation }));
}
