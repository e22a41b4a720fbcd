/**
 * The Electric "shape" HTTP protocol, server side, as `@electric-sql/client` 1.0.x (the version the
 * SDK's realtime subscriptions use) expects it. Pure functions: no I/O, no timers.
 *
 * The exchange, per subscription:
 * 1. `GET …?log=full&offset=-1` → 200, the current rows as `insert` messages, then an
 *    `up-to-date` control message. Headers give the shape `handle`, the `offset` reached and the
 *    column `schema`.
 * 2. `GET …?handle=H&live=true&offset=O&cursor=C` (a long poll) → held until something newer
 *    than `O` exists or the hold time passes; then 200 with `update` messages (or none) and
 *    `up-to-date`, the new `offset` and a fresh `cursor`. The client loops on step 2.
 * 3. A `handle` the server no longer serves → 409 with a new handle; the client drops its rows and
 *    restarts at step 1 with that handle.
 *
 * Client facts the server must respect:
 * - 200 responses without `electric-handle` and `electric-offset` (and `electric-schema` when not
 *   live, `electric-cursor` when live) are rejected with MissingHeadersError.
 * - Offsets are `-1` or `<int>_<int>`; the client sends back whatever `electric-offset` said.
 * - Row values are strings (or null) decoded by the column types in `electric-schema`: `int2`,
 *   `int4`, `float4`, `float8` → number, `int8` → bigint, `bool` (`t`/`true`) → boolean,
 *   `json`/`jsonb` → JSON.parse, `dims: 1` → a Postgres array literal; any other type is kept as
 *   the string. The schema is read from the first response after each (re)start only.
 * - The SDK emits rows only when a response ends with `up-to-date`, merging `update` values into
 *   the row it holds for that key; it ignores `delete`.
 * - A non-live 200 without `electric-up-to-date` makes the client prefetch the next chunk.
 * - 4xx other than 409 and 429 end the subscription (surfaced to the SDK caller); 5xx and 429
 *   are retried with backoff forever.
 */
import { createHash } from "node:crypto";
import { z } from "zod";

export const ElectricHeader = {
  handle: "electric-handle",
  offset: "electric-offset",
  schema: "electric-schema",
  cursor: "electric-cursor",
  upToDate: "electric-up-to-date",
} as const;

/** For CORS: browsers only let the client read these if they are exposed. */
export const ELECTRIC_EXPOSE_HEADERS = Object.values(ElectricHeader).join(", ");

/** How long to hold a live request with nothing new before answering `up-to-date` alone. */
export const LIVE_HOLD_MS = 20_000;

// ---------------------------------------------------------------------------------------------
// Offsets
// ---------------------------------------------------------------------------------------------

export type ShapeOffset = "-1" | `${bigint}_${number}`;
export const INITIAL_OFFSET = "-1" as const;

export type ParsedOffset =
  | { kind: "initial" }
  | { kind: "now" }
  | { kind: "log"; version: bigint; seq: number };

/**
 * `<version>_<seq>`: `version` is any monotonic 64-bit position of the feed (a change counter,
 * or the `updatedAt` milliseconds of the newest row sent); `seq` orders messages that share it.
 */
export function formatOffset(version: bigint | number, seq = 0): ShapeOffset {
  const v = typeof version === "bigint" ? version : BigInt(Math.trunc(version));
  if (v < 0n || !Number.isInteger(seq) || seq < 0) throw new RangeError("Offsets are non-negative");
  return `${v}_${seq}` as ShapeOffset;
}

export function parseOffset(value: string): ParsedOffset | undefined {
  if (value === "-1") return { kind: "initial" };
  if (value === "now") return { kind: "now" };
  const match = /^(\d{1,20})_(\d{1,15})$/.exec(value);
  if (!match) return undefined;
  return { kind: "log", version: BigInt(match[1]), seq: Number(match[2]) };
}

/** Orders two offsets; `-1` (and `now`) sort before every log offset. */
export function compareOffsets(a: string, b: string): -1 | 0 | 1 {
  const pa = parseOffset(a);
  const pb = parseOffset(b);
  if (!pa || !pb) throw new RangeError(`Invalid offset: ${!pa ? a : b}`);
  const rank = (p: ParsedOffset) => (p.kind === "log" ? [1n, p.version, BigInt(p.seq)] : [0n, 0n, 0n]);
  const [ra, rb] = [rank(pa), rank(pb)];
  for (let i = 0; i < 3; i++) {
    if (ra[i] < rb[i]) return -1;
    if (ra[i] > rb[i]) return 1;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Handles and cursors
// ---------------------------------------------------------------------------------------------

/**
 * A handle for a shape definition (e.g. `["run", runId, skipColumns]`). Deterministic, so it
 * survives a server restart; change `generation` to force every client to refetch.
 */
export function deriveShapeHandle(definition: readonly string[], generation = 0): string {
  const digest = createHash("sha256").update(JSON.stringify([...definition])).digest("hex").slice(0, 16);
  return `${digest}-${generation}`;
}

const CURSOR_INTERVAL_SECONDS = 20;

/**
 * The `electric-cursor` for a live response. It only busts caches between long polls, so it is
 * the current 20-second interval, moved forward if the client already holds that value.
 */
export function nextLiveCursor(requestCursor: string | undefined, now: number = Date.now()): string {
  let cursor = Math.floor(now / 1000 / CURSOR_INTERVAL_SECONDS);
  const previous = requestCursor && /^\d+$/.test(requestCursor) ? Number(requestCursor) : undefined;
  if (previous !== undefined && cursor <= previous) cursor = previous + 1;
  return String(cursor);
}

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

const commaList = z
  .string()
  .transform((value) => value.split(",").map((part) => part.trim()).filter((part) => part.length > 0));

/** The query of a realtime feed: Electric's own parameters plus the SDK's filters. */
export const ShapeRequestQuery = z
  .object({
    offset: z
      .string()
      .refine((value) => parseOffset(value) !== undefined, "offset must be -1, now or <int>_<int>")
      .default(INITIAL_OFFSET),
    handle: z.string().min(1).optional(),
    live: z.enum(["true", "false"]).default("false").transform((value) => value === "true"),
    cursor: z.string().optional(),
    log: z.enum(["full", "changes_only"]).default("full"),
    expired_handle: z.string().optional(),
    /** Columns to leave out (the SDK's `skipColumns` option). */
    skipColumns: commaList.optional(),
    /** `/realtime/v1/runs`: runs carrying all of these tags. */
    tags: commaList.optional(),
    /** `/realtime/v1/runs`: only runs created within this duration (default `24h`). */
    createdAt: z.string().optional(),
    /** `/realtime/v1/runs`: task filter (the client can build it; 4.8.3 never sends it). */
    tasks: commaList.optional(),
  })
  .superRefine((query, ctx) => {
    if (query.offset !== INITIAL_OFFSET && query.offset !== "now" && !query.handle) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["handle"], message: "handle is required with a non-initial offset" });
    }
    if (query.live && query.offset === INITIAL_OFFSET) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["live"], message: "live requires an offset from a previous response" });
    }
  });

export interface ShapeRequest {
  offset: string;
  parsedOffset: ParsedOffset;
  handle?: string;
  live: boolean;
  cursor?: string;
  log: "full" | "changes_only";
  expiredHandle?: string;
  skipColumns: string[];
  tags?: string[];
  createdAt?: string;
  tasks?: string[];
}

export function parseShapeRequest(
  url: URL | string,
): { success: true; data: ShapeRequest } | { success: false; error: z.ZodError } {
  const searchParams = (typeof url === "string" ? new URL(url, "http://localhost") : url).searchParams;
  const record: Record<string, string> = {};
  for (const [key, value] of searchParams) record[key] = value;
  const parsed = ShapeRequestQuery.safeParse(record);
  if (!parsed.success) return { success: false, error: parsed.error };
  const q = parsed.data;
  return {
    success: true,
    data: {
      offset: q.offset,
      parsedOffset: parseOffset(q.offset)!,
      handle: q.handle,
      live: q.live,
      cursor: q.cursor,
      log: q.log,
      expiredHandle: q.expired_handle,
      skipColumns: q.skipColumns ?? [],
      tags: q.tags?.length ? q.tags : undefined,
      createdAt: q.createdAt,
      tasks: q.tasks?.length ? q.tasks : undefined,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

export interface ShapeColumnInfo {
  type: string;
  dims?: number;
  not_null?: boolean;
}
export type ShapeSchema = Record<string, ShapeColumnInfo>;

export type ShapeValue = Record<string, string | null>;
export type ShapeOperation = "insert" | "update" | "delete";

export interface ShapeRowChange {
  /** Stable per row for the life of the shape. */
  key: string;
  /** Every value a string or null, typed by the schema. Send the whole row: updates merge. */
  value: ShapeValue;
  operation: ShapeOperation;
}

export type ShapeMessage =
  | { key: string; value: ShapeValue; headers: { operation: ShapeOperation } }
  | { headers: { control: "up-to-date" | "must-refetch" } };

export interface ShapeHttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface BuildShapeResponseInput {
  rows: readonly ShapeRowChange[];
  handle: string;
  /** The offset the client should send next: the position of the newest change included. */
  offset: ShapeOffset;
  /** True when the rows bring the client fully up to date (always, unless paging a snapshot). */
  upToDate: boolean;
  /** Whether the request was `live=true`. */
  live: boolean;
  schema: ShapeSchema;
  /** The request's `cursor`, to move the response cursor past it. */
  requestCursor?: string;
  now?: number;
}

const JSON_HEADERS = {
  "content-type": "application/json; charset=utf-8",
  "cache-control": "no-store",
} as const;

export function buildShapeResponse(input: BuildShapeResponseInput): ShapeHttpResponse {
  const messages: ShapeMessage[] = input.rows.map((row) => ({
    key: row.key,
    value: row.value,
    headers: { operation: row.operation },
  }));
  if (input.upToDate) messages.push({ headers: { control: "up-to-date" } });

  const headers: Record<string, string> = {
    ...JSON_HEADERS,
    [ElectricHeader.handle]: input.handle,
    [ElectricHeader.offset]: input.offset,
    // Required when not live; harmless when live, and it keeps every response self-describing.
    [ElectricHeader.schema]: JSON.stringify(input.schema),
    // Required when live. Sent always so a client that becomes live has a cursor to echo.
    [ElectricHeader.cursor]: nextLiveCursor(input.requestCursor, input.now),
  };
  if (input.upToDate) headers[ElectricHeader.upToDate] = "true";
  return { status: 200, headers, body: JSON.stringify(messages) };
}

/**
 * 409: the requested handle is gone. The client resets, remembers the old handle as expired
 * (sent back as `expired_handle`), and restarts from offset `-1` with `newHandle`.
 */
export function buildMustRefetchResponse(newHandle: string): ShapeHttpResponse {
  const messages: ShapeMessage[] = [{ headers: { control: "must-refetch" } }];
  return {
    status: 409,
    headers: { ...JSON_HEADERS, [ElectricHeader.handle]: newHandle },
    body: JSON.stringify(messages),
  };
}

/**
 * Whether a request must be answered with 409: it names a handle, and that handle is neither
 * the current one nor a fresh start.
 */
export function needsRefetch(request: Pick<ShapeRequest, "handle" | "parsedOffset">, currentHandle: string): boolean {
  return request.handle !== undefined && request.handle !== currentHandle && request.parsedOffset.kind === "log";
}
