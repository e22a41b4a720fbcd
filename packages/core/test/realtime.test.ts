import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ShapeStream, isChangeMessage, isControlMessage, type Message, type Row } from "@electric-sql/client";
import { afterEach, describe, expect, it } from "vitest";
import {
  ELECTRIC_EXPOSE_HEADERS,
  ElectricHeader,
  RUN_SHAPE_COLUMNS,
  buildMustRefetchResponse,
  buildShapeResponse,
  compareOffsets,
  deriveShapeHandle,
  encodeShapeTextArray,
  encodeShapeTimestamp,
  formatOffset,
  needsRefetch,
  nextLiveCursor,
  parseOffset,
  parseShapeRequest,
  resolveSkipColumns,
  runShapeChanges,
  runShapeKey,
  runShapeSchema,
  runToShapeRow,
  type RunShapeSource,
  type ShapeHttpResponse,
} from "../src/realtime/index.js";
import { formatZodIssues } from "../src/schemas/index.js";

function baseRun(overrides: Partial<RunShapeSource> = {}): RunShapeSource {
  return {
    id: "cm1internal",
    friendlyId: "run_cm1internal",
    taskIdentifier: "hello",
    status: "PENDING",
    createdAt: new Date("2026-01-01T00:00:00.000Z"),
    updatedAt: new Date("2026-01-01T00:00:01.000Z"),
    isTest: false,
    payload: '{"json":{"a":1}}',
    payloadType: "application/super+json",
    metadata: '{"progress":1}',
    metadataType: "application/json",
    runTags: ['tag "one"', "back\\slash", "plain"],
    ...overrides,
  };
}

describe("offsets, handles and cursors", () => {
  it("formats, parses and orders offsets", () => {
    expect(formatOffset(1767225601000)).toBe("1767225601000_0");
    expect(formatOffset(5n, 3)).toBe("5_3");
    expect(parseOffset("-1")).toEqual({ kind: "initial" });
    expect(parseOffset("12_4")).toEqual({ kind: "log", version: 12n, seq: 4 });
    expect(parseOffset("12")).toBeUndefined();
    expect(parseOffset("a_1")).toBeUndefined();
    expect(compareOffsets("-1", "0_0")).toBe(-1);
    expect(compareOffsets("10_2", "10_1")).toBe(1);
    expect(compareOffsets("9_9", "10_0")).toBe(-1);
    expect(compareOffsets("7_0", "7_0")).toBe(0);
    expect(() => formatOffset(-1)).toThrow(RangeError);
  });

  it("derives stable handles per shape definition", () => {
    const a = deriveShapeHandle(["run", "run_1"]);
    expect(a).toBe(deriveShapeHandle(["run", "run_1"]));
    expect(a).not.toBe(deriveShapeHandle(["run", "run_2"]));
    expect(a).not.toBe(deriveShapeHandle(["run", "run_1"], 1));
  });

  it("moves the live cursor past the one the client holds", () => {
    const now = 1_000_000_000;
    const cursor = nextLiveCursor(undefined, now);
    expect(cursor).toBe(String(Math.floor(now / 1000 / 20)));
    expect(Number(nextLiveCursor(cursor, now))).toBe(Number(cursor) + 1);
    expect(Number(nextLiveCursor(String(Number(cursor) + 5), now))).toBe(Number(cursor) + 6);
  });
});

describe("parseShapeRequest", () => {
  it("reads the Electric parameters and the SDK's filters", () => {
    const result = parseShapeRequest(
      "/realtime/v1/runs?createdAt=1h&cursor=42&handle=h1&live=true&log=full&offset=5_0&skipColumns=payload,output&tags=a,b",
    );
    expect(result.success).toBe(true);
    if (!result.success) return;
    expect(result.data).toMatchObject({
      offset: "5_0",
      parsedOffset: { kind: "log", version: 5n, seq: 0 },
      handle: "h1",
      live: true,
      cursor: "42",
      skipColumns: ["payload", "output"],
      tags: ["a", "b"],
      createdAt: "1h",
    });
  });

  it("defaults to a fresh snapshot", () => {
    const result = parseShapeRequest(new URL("http://x/realtime/v1/runs/run_1"));
    expect(result.success && result.data).toMatchObject({ offset: "-1", live: false, skipColumns: [], log: "full" });
  });

  it("names the field on bad input", () => {
    const bad = parseShapeRequest("/x?offset=nope");
    expect(bad.success).toBe(false);
    if (!bad.success) expect(formatZodIssues(bad.error)).toMatch(/^offset: /);
    const noHandle = parseShapeRequest("/x?offset=5_0");
    if (!noHandle.success) expect(formatZodIssues(noHandle.error)).toMatch(/^handle: /);
    expect(noHandle.success).toBe(false);
    const liveFromStart = parseShapeRequest("/x?offset=-1&live=true");
    expect(liveFromStart.success).toBe(false);
  });

  it("tells when a handle is stale", () => {
    const req = parseShapeRequest("/x?offset=5_0&handle=old");
    expect(req.success && needsRefetch(req.data, "new")).toBe(true);
    expect(req.success && needsRefetch(req.data, "old")).toBe(false);
    const fresh = parseShapeRequest("/x?offset=-1&handle=old");
    expect(fresh.success && needsRefetch(fresh.data, "new")).toBe(false);
  });
});

describe("run rows", () => {
  it("encodes every column as Electric would", () => {
    const row = runToShapeRow(
      baseRun({
        completedAt: new Date("2026-01-01T00:00:02.000Z"),
        usageDurationMs: 1234,
        costInCents: 0.5,
        isTest: true,
        error: { type: "BUILT_IN_ERROR", name: "Error", message: "boom", stackTrace: "at x" },
      }),
    );
    expect(Object.keys(row)).toEqual(RUN_SHAPE_COLUMNS);
    expect(row).toMatchObject({
      id: "cm1internal",
      friendlyId: "run_cm1internal",
      status: "PENDING",
      createdAt: "2026-01-01T00:00:00.000",
      completedAt: "2026-01-01T00:00:02.000",
      startedAt: null,
      isTest: "t",
      number: "0",
      usageDurationMs: "1234",
      costInCents: "0.5",
      runTags: '{"tag \\"one\\"","back\\\\slash","plain"}',
      realtimeStreams: "{}",
    });
    expect(JSON.parse(row.error!)).toMatchObject({ type: "BUILT_IN_ERROR", message: "boom" });
  });

  it("wraps an error the client could not parse", () => {
    expect(JSON.parse(runToShapeRow(baseRun({ error: { message: "legacy" } })).error!)).toEqual({
      type: "STRING_ERROR",
      raw: "legacy",
    });
    expect(JSON.parse(runToShapeRow(baseRun({ error: "plain" })).error!)).toEqual({ type: "STRING_ERROR", raw: "plain" });
  });

  it("never emits a trailing Z", () => {
    expect(encodeShapeTimestamp(new Date("2026-05-05T10:11:12.345Z"))).toBe("2026-05-05T10:11:12.345");
    expect(encodeShapeTimestamp(null)).toBeNull();
    expect(encodeShapeTextArray([])).toBe("{}");
  });

  it("skips columns but never the ones the client requires", () => {
    expect(resolveSkipColumns(["payload", "id", "updatedAt", "nonsense"], ["output"])).toEqual(["payload", "output"]);
    const row = runToShapeRow(baseRun(), { skipColumns: ["payload", "createdAt", "metadata"] });
    expect(row).not.toHaveProperty("payload");
    expect(row).not.toHaveProperty("metadata");
    expect(row).toHaveProperty("createdAt");
    const schema = runShapeSchema(["payload"]);
    expect(schema).not.toHaveProperty("payload");
    expect(schema.runTags).toEqual({ type: "text", dims: 1 });
  });
});

describe("buildShapeResponse", () => {
  it("sends the required headers and an up-to-date control message", () => {
    const res = buildShapeResponse({
      rows: runShapeChanges([baseRun()], "insert"),
      handle: "h",
      offset: formatOffset(10),
      upToDate: true,
      live: false,
      schema: runShapeSchema(),
      now: 0,
    });
    expect(res.status).toBe(200);
    for (const header of Object.values(ElectricHeader)) expect(res.headers).toHaveProperty(header);
    const body = JSON.parse(res.body);
    expect(body).toHaveLength(2);
    expect(body[0]).toMatchObject({ key: runShapeKey(baseRun()), headers: { operation: "insert" } });
    expect(body[1]).toEqual({ headers: { control: "up-to-date" } });
    expect(ELECTRIC_EXPOSE_HEADERS).toContain("electric-cursor");
  });

  it("omits the up-to-date marker mid-snapshot", () => {
    const res = buildShapeResponse({ rows: [], handle: "h", offset: "1_0", upToDate: false, live: false, schema: {} });
    expect(res.headers).not.toHaveProperty(ElectricHeader.upToDate);
    expect(JSON.parse(res.body)).toEqual([]);
  });

  it("answers a stale handle with 409 must-refetch and the new handle", () => {
    const res = buildMustRefetchResponse("h2");
    expect(res.status).toBe(409);
    expect(res.headers[ElectricHeader.handle]).toBe("h2");
    expect(JSON.parse(res.body)).toEqual([{ headers: { control: "must-refetch" } }]);
  });
});

// ---------------------------------------------------------------------------------------------
// Against the real @electric-sql/client
// ---------------------------------------------------------------------------------------------

/** A one-run feed server built only from the pure helpers above. */
function startFeedServer(initial: RunShapeSource, opts: { holdMs: number; staleHandleOnce?: boolean }) {
  let run = initial;
  let waiters: Array<() => void> = [];
  let generation = 0;
  const requests: string[] = [];

  const send = (res: ServerResponse, out: ShapeHttpResponse) => {
    res.writeHead(out.status, out.headers);
    res.end(out.body);
  };

  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    requests.push(req.url!);
    const parsed = parseShapeRequest(req.url!);
    if (!parsed.success) {
      res.writeHead(400, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: formatZodIssues(parsed.error) }));
      return;
    }
    const request = parsed.data;
    const handle = deriveShapeHandle(["run", run.friendlyId, ...request.skipColumns], generation);
    if (needsRefetch(request, handle)) return send(res, buildMustRefetchResponse(handle));

    const schema = runShapeSchema(request.skipColumns);
    const version = () => run.updatedAt.getTime();
    const isNewer = () => request.parsedOffset.kind !== "log" || BigInt(version()) > request.parsedOffset.version;

    if (request.parsedOffset.kind !== "log") {
      return send(
        res,
        buildShapeResponse({
          rows: runShapeChanges([run], "insert", request.skipColumns),
          handle,
          offset: formatOffset(version()),
          upToDate: true,
          live: false,
          schema,
          requestCursor: request.cursor,
        }),
      );
    }
    if (request.live && !isNewer()) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, opts.holdMs);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    const changed = isNewer();
    send(
      res,
      buildShapeResponse({
        rows: changed ? runShapeChanges([run], "update", request.skipColumns) : [],
        handle,
        offset: changed ? formatOffset(version()) : (request.offset as `${bigint}_${number}`),
        upToDate: true,
        live: request.live,
        schema,
        requestCursor: request.cursor,
      }),
    );
  };

  const server: Server = createServer((req, res) => void handler(req, res));
  return {
    server,
    requests,
    listen: () =>
      new Promise<string>((resolve) =>
        server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
      ),
    update(patch: Partial<RunShapeSource>) {
      run = { ...run, ...patch, updatedAt: new Date(run.updatedAt.getTime() + 1000) };
      const current = waiters;
      waiters = [];
      for (const wake of current) wake();
    },
    rotateHandle() {
      generation++;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const wake of waiters) wake();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Collects rows the way the SDK does: merge updates per key, emit on up-to-date. */
function collectRows(stream: ShapeStream<Row>) {
  const state = new Map<string, Row>();
  const emitted: Row[] = [];
  const controls: string[] = [];
  let pending = new Set<string>();
  let notify: (() => void) | undefined;
  const unsubscribe = stream.subscribe((messages: Message<Row>[]) => {
    let upToDate = false;
    for (const message of messages) {
      if (isChangeMessage(message)) {
        const previous = state.get(message.key);
        state.set(message.key, message.headers.operation === "update" && previous ? { ...previous, ...message.value } : message.value);
        pending.add(message.key);
      } else if (isControlMessage(message)) {
        controls.push(message.headers.control);
        if (message.headers.control === "must-refetch") state.clear();
        if (message.headers.control === "up-to-date") upToDate = true;
      }
    }
    if (upToDate) {
      for (const key of pending) emitted.push(state.get(key)!);
      pending = new Set();
      notify?.();
    }
  });
  return {
    emitted,
    controls,
    unsubscribe,
    async waitFor(count: number, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (emitted.length < count) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} rows, have ${emitted.length}`);
        await new Promise<void>((resolve) => {
          notify = resolve;
          setTimeout(resolve, 50);
        });
      }
    },
  };
}

describe("served to @electric-sql/client 1.0.14", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it("delivers the snapshot typed by the schema, then live updates", async () => {
    const feed = startFeedServer(baseRun({ error: null }), { holdMs: 200 });
    const base = await feed.listen();
    const abort = new AbortController();
    cleanups.push(() => abort.abort(), () => feed.close());

    const stream = new ShapeStream<Row>({ url: `${base}/realtime/v1/runs/run_cm1internal`, signal: abort.signal });
    const rows = collectRows(stream);
    cleanups.push(() => rows.unsubscribe());

    await rows.waitFor(1);
    const first = rows.emitted[0];
    expect(first).toMatchObject({
      id: "cm1internal",
      friendlyId: "run_cm1internal",
      status: "PENDING",
      createdAt: "2026-01-01T00:00:00.000",
      startedAt: null,
      isTest: false,
      number: 0,
      usageDurationMs: 0,
      costInCents: 0,
      runTags: ['tag "one"', "back\\slash", "plain"],
      realtimeStreams: [],
      error: null,
      payload: '{"json":{"a":1}}',
    });
    // As the SDK parses it: the timestamp plus "Z" is a valid date.
    expect(new Date(`${first.createdAt as string}Z`).toISOString()).toBe("2026-01-01T00:00:00.000Z");

    // Let at least one live poll time out with nothing new, then change the run.
    await new Promise((resolve) => setTimeout(resolve, 350));
    feed.update({
      status: "COMPLETED_WITH_ERRORS",
      completedAt: new Date("2026-01-01T00:00:05.000Z"),
      usageDurationMs: 42,
      error: { type: "INTERNAL_ERROR", code: "TASK_RUN_CRASHED" },
    });
    await rows.waitFor(2);
    expect(rows.emitted[1]).toMatchObject({
      status: "COMPLETED_WITH_ERRORS",
      completedAt: "2026-01-01T00:00:05.000",
      usageDurationMs: 42,
      error: { type: "INTERNAL_ERROR", code: "TASK_RUN_CRASHED" },
      // Untouched columns survive the merge.
      taskIdentifier: "hello",
    });

    const live = feed.requests.filter((url) => url.includes("live=true"));
    expect(live.length).toBeGreaterThanOrEqual(2);
    expect(live.every((url) => /[?&]cursor=\d+/.test(url) && /[?&]handle=/.test(url))).toBe(true);
    expect(stream.isUpToDate).toBe(true);
    expect(stream.lastOffset).toBe(formatOffset(new Date("2026-01-01T00:00:02.000Z").getTime()));
  });

  it("honours skipColumns end to end", async () => {
    const feed = startFeedServer(baseRun(), { holdMs: 100 });
    const base = await feed.listen();
    const abort = new AbortController();
    cleanups.push(() => abort.abort(), () => feed.close());
    const stream = new ShapeStream<Row>({
      url: `${base}/realtime/v1/runs/run_cm1internal?skipColumns=payload,metadata`,
      signal: abort.signal,
    });
    const rows = collectRows(stream);
    cleanups.push(() => rows.unsubscribe());
    await rows.waitFor(1);
    expect(rows.emitted[0]).not.toHaveProperty("payload");
    expect(rows.emitted[0]).not.toHaveProperty("metadata");
    expect(rows.emitted[0]).toHaveProperty("payloadType");
  });

  it("recovers from a rotated handle through 409 must-refetch", async () => {
    const feed = startFeedServer(baseRun(), { holdMs: 100 });
    const base = await feed.listen();
    const abort = new AbortController();
    cleanups.push(() => abort.abort(), () => feed.close());
    const stream = new ShapeStream<Row>({ url: `${base}/realtime/v1/runs/run_cm1internal`, signal: abort.signal });
    const rows = collectRows(stream);
    cleanups.push(() => rows.unsubscribe());
    await rows.waitFor(1);

    feed.rotateHandle();
    feed.update({ status: "EXECUTING" });
    await rows.waitFor(2);
    expect(rows.controls).toContain("must-refetch");
    expect(rows.emitted.at(-1)).toMatchObject({ status: "EXECUTING" });
    // The client remembers the old handle and sends it back as expired_handle from then on.
    expect(feed.requests.some((url) => url.includes("expired_handle="))).toBe(true);
    expect(stream.shapeHandle).toBe(deriveShapeHandle(["run", "run_cm1internal"], 1));
  });
});
