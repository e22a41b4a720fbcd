// Hot-path writes as single SQL statements (data-modifying CTEs): one round trip, atomic without an
// explicit transaction. Used for run creation and every snapshot transition. Parameterised with
// $queryRawUnsafe so the same text works on either database's client.
import type { TaskRun } from "@internal/run-ops-database";
import type { RunTablesClient } from "./types.js";

const ENUM_CASTS: Record<string, string> = {
  status: '"TaskRunStatus"',
  runStatus: '"TaskRunStatus"',
  executionStatus: '"TaskRunExecutionStatus"',
};
const WAITPOINT_ENUM_CASTS: Record<string, string> = { type: '"WaitpointType"', status: '"WaitpointStatus"' };
const JSON_COLUMNS = new Set(["idempotencyKeyOptions", "lockedRetryConfig", "error", "annotations"]);
const ARRAY_COLUMNS = new Set(["runTags", "completedWaitpointIds", "tags", "runIds"]);

class Params {
  readonly values: unknown[] = [];
  add(value: unknown, cast?: string): string {
    this.values.push(value);
    return `$${this.values.length}${cast ? `::${cast}` : ""}`;
  }
}

function ident(column: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(column)) throw new Error(`sqlWrites: bad column name ${column}`);
  return `"${column}"`;
}

/** One value as a parameter with the cast its column needs. Timestamps are stored as UTC wall clock. */
function encode(params: Params, column: string, value: unknown, enums: Record<string, string>): string {
  if (value === null) return "NULL";
  if (value instanceof Date) return params.add(value.toISOString(), "timestamp(3)");
  if (enums[column]) return params.add(value, enums[column]);
  if (JSON_COLUMNS.has(column)) return params.add(JSON.stringify(value), "jsonb");
  if (ARRAY_COLUMNS.has(column)) return params.add(value, "text[]");
  if (typeof value === "number") return params.add(value, Number.isInteger(value) ? "int" : "float8");
  if (typeof value === "boolean") return params.add(value, "boolean");
  return params.add(value, "text");
}

type Row = Record<string, unknown>;

function defined(row: Row): [string, unknown][] {
  return Object.entries(row).filter(([, v]) => v !== undefined);
}

function insertSql(params: Params, table: string, row: Row, enums: Record<string, string>, returning: string): string {
  const entries = defined(row);
  const cols = entries.map(([k]) => ident(k)).join(", ");
  const vals = entries.map(([k, v]) => encode(params, k, v, enums)).join(", ");
  return `INSERT INTO "${table}" (${cols}) VALUES (${vals}) RETURNING ${returning}`;
}

function setSql(params: Params, row: Row): string {
  return defined(row)
    .map(([k, v]) => {
      if (v && typeof v === "object" && !(v instanceof Date) && !Array.isArray(v) && "increment" in (v as Row) && Object.keys(v as Row).length === 1) {
        return `${ident(k)} = ${ident(k)} + ${params.add((v as { increment: number }).increment, "int")}`;
      }
      if (v && typeof v === "object" && !(v instanceof Date) && !Array.isArray(v) && "set" in (v as Row) && Object.keys(v as Row).length === 1) {
        return `${ident(k)} = ${encode(params, k, (v as { set: unknown }).set, ENUM_CASTS)}`;
      }
      return `${ident(k)} = ${encode(params, k, v, ENUM_CASTS)}`;
    })
    .join(", ");
}

function withUpdatedAt(row: Row, at: Date): Row {
  return row.updatedAt === undefined ? { ...row, updatedAt: at } : row;
}

/** TaskRun + first snapshot + optional RUN waitpoint, one statement. */
export async function insertRunStatement(
  client: RunTablesClient,
  input: { run: Row; snapshot?: Row; waitpoint?: Row }
): Promise<TaskRun> {
  const params = new Params();
  const at = (input.run.createdAt as Date | undefined) ?? new Date();
  const parts = [`r AS (${insertSql(params, "TaskRun", withUpdatedAt({ ...input.run, createdAt: at }, at), ENUM_CASTS, "*")})`];
  if (input.snapshot) {
    parts.push(`s AS (${insertSql(params, "TaskRunExecutionSnapshot", withUpdatedAt({ ...input.snapshot, runId: input.run.id }, at), ENUM_CASTS, "id")})`);
  }
  if (input.waitpoint) {
    parts.push(`w AS (${insertSql(params, "Waitpoint", withUpdatedAt({ ...input.waitpoint, completedByTaskRunId: input.run.id }, at), WAITPOINT_ENUM_CASTS, "id")})`);
  }
  const rows = await client.$queryRawUnsafe<TaskRun[]>(`WITH ${parts.join(", ")} SELECT * FROM r`, ...params.values);
  return rows[0];
}

/** Appends a snapshot and updates the run, one statement. Throws when the run does not exist. */
export async function transitionStatement(client: RunTablesClient, runId: string, update: Row, snapshot: Row): Promise<TaskRun> {
  const params = new Params();
  const at = (snapshot.createdAt as Date | undefined) ?? new Date();
  const snapshotSql = insertSql(params, "TaskRunExecutionSnapshot", withUpdatedAt({ ...snapshot, runId }, at), ENUM_CASTS, "id");
  const set = setSql(params, withUpdatedAt(update, new Date()));
  const idParam = params.add(runId, "text");
  const rows = await client.$queryRawUnsafe<TaskRun[]>(
    `WITH s AS (${snapshotSql}), r AS (UPDATE "TaskRun" SET ${set} WHERE id = ${idParam} RETURNING *) SELECT * FROM r`,
    ...params.values
  );
  if (!rows[0]) throw new Error(`transition: run ${runId} not found`);
  return rows[0];
}
