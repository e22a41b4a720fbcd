import { describe, expect, it } from "vitest";
import {
  AddTagsRequestBody,
  CreateBatchRequestBody,
  CreateBatchResponse,
  CreatePublicTokenRequestBody,
  CreateWaitpointTokenRequestBody,
  ListRunResponseItem,
  ListRunsResponse,
  MISSING_SCOPE_BODY,
  ReplayRunRequestBody,
  RescheduleRunRequestBody,
  RetrieveBatchV2Response,
  RetrieveRunResponse,
  StreamBatchItemsResponse,
  TriggerTaskRequestBody,
  TriggerTaskResponse,
  WaitForDurationRequestBody,
  WaitpointRetrieveTokenResponse,
  decodeCursor,
  decodePacketPath,
  decodeTaskIdFromPath,
  encodeCursor,
  formatZodIssues,
  normalizeTags,
  normalizeTriggerPayload,
  packetJsonView,
  parseBatchItemLine,
  parseDurationMs,
  parseIdempotencyKeyTtlMs,
  parseListRunsQuery,
  parseListWaitpointTokensQuery,
  parseOptionalJsonBody,
  publicStatusFields,
  queryErrorBody,
  readSdkRequestHeaders,
  resolveDelay,
  resolveTtlSeconds,
  serializeTaskRunError,
  shouldRetryHeader,
  triggerFunctionFor,
  waitpointTimeoutOutput,
  type RetrieveRunResponse as RetrieveRunInput,
} from "../src/schemas/index.js";
import { z } from "zod";

describe("trigger request", () => {
  // Verified body of tasks.trigger("hello", {a:1, d:new Date(0)}, {...every option}).
  const sdkBody = {
    payload: '{"json":{"a":1,"d":"1970-01-01T00:00:00.000Z"},"meta":{"values":{"d":["Date"]}}}',
    options: {
      queue: { name: "q1" },
      concurrencyKey: 7,
      payloadType: "application/super+json",
      payloadSize: 80,
      idempotencyKey: "a".repeat(64),
      idempotencyKeyTTL: "1h",
      idempotencyKeyOptions: { key: "k1", scope: "run" },
      delay: "1m",
      ttl: "10m",
      tags: ["x"],
      maxAttempts: 3,
      metadata: { m: 1 },
      maxDuration: 60,
      machine: "small-1x",
      priority: 5,
      concurrency: ["shared-limit"],
      debounce: { key: "d", delay: "5s", mode: "trailing" },
      externalDeploymentId: null,
    },
  };

  it("accepts what the SDK sends and coerces the concurrency key", () => {
    const body = TriggerTaskRequestBody.parse(sdkBody);
    expect(body.options?.concurrencyKey).toBe("7");
    expect(body.options?.externalDeploymentId).toBeUndefined();
    expect(body.options?.tags).toEqual(["x"]);
  });

  it("ignores unknown fields instead of failing", () => {
    const body = TriggerTaskRequestBody.parse({ ...sdkBody, extra: 1, options: { ...sdkBody.options, futureOption: true } });
    expect(body.options).not.toHaveProperty("futureOption");
    expect(body).not.toHaveProperty("extra");
  });

  it("accepts an empty body and a raw JSON payload", () => {
    expect(TriggerTaskRequestBody.parse({})).toEqual({});
    expect(TriggerTaskRequestBody.parse({ payload: { any: ["json"] } }).payload).toEqual({ any: ["json"] });
  });

  it("names the field in every error", () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ options: { maxAttempts: "3" } }, /^options\.maxAttempts: /],
      [{ options: { machine: "huge" } }, /^options\.machine: /],
      [{ options: { tags: ["x".repeat(129)] } }, /^options\.tags/],
      [{ options: { idempotencyKey: "k".repeat(2049) } }, /^options\.idempotencyKey: /],
      [{ options: { payloadType: "application/store" } }, /^payload: /],
      [{ options: { concurrency: ["a", "b", "c"] } }, /^options\.concurrency: /],
      [{ options: { ttl: -1 } }, /^options\.ttl/],
    ];
    for (const [input, pattern] of cases) {
      const result = TriggerTaskRequestBody.safeParse(input);
      expect(result.success, JSON.stringify(input)).toBe(false);
      if (!result.success) expect(formatZodIssues(result.error)).toMatch(pattern);
    }
  });

  it("normalizes payloads, tags and the task id segment", () => {
    expect(normalizeTriggerPayload(sdkBody.payload, "application/super+json")).toEqual({
      data: sdkBody.payload,
      dataType: "application/super+json",
    });
    expect(normalizeTriggerPayload({ a: 1 }, undefined)).toEqual({ data: '{"a":1}', dataType: "application/json" });
    expect(normalizeTriggerPayload(undefined, undefined)).toEqual({ data: undefined, dataType: "application/json" });
    expect(normalizeTags(" a , ".split(",").concat(["b", "a", ""]))).toEqual(["a", "b"]);
    expect(normalizeTags("solo")).toEqual(["solo"]);
    expect(decodeTaskIdFromPath("my%2Ftask")).toBe("my/task");
  });

  it("omits isCached unless it is set", () => {
    expect(JSON.stringify(TriggerTaskResponse.parse({ id: "run_1", isCached: null }))).toBe('{"id":"run_1"}');
    expect(TriggerTaskResponse.parse({ id: "run_1", isCached: true })).toEqual({ id: "run_1", isCached: true });
  });
});

describe("durations", () => {
  it("parses single and combined units", () => {
    expect(parseDurationMs("30s")).toBe(30_000);
    expect(parseDurationMs("2hr")).toBe(7_200_000);
    expect(parseDurationMs("2h30m")).toBe(9_000_000);
    expect(parseDurationMs("1w1d")).toBe(8 * 86_400_000);
    expect(parseDurationMs("1x")).toBeUndefined();
    expect(parseDurationMs("")).toBeUndefined();
    expect(parseDurationMs("5m2h")).toBeUndefined();
  });

  it("resolves delays, ttls and idempotency TTLs", () => {
    const now = new Date("2026-01-01T00:00:00Z");
    expect(resolveDelay("1m", now)?.toISOString()).toBe("2026-01-01T00:01:00.000Z");
    expect(resolveDelay("2026-02-01T00:00:00.000Z", now)?.toISOString()).toBe("2026-02-01T00:00:00.000Z");
    expect(resolveDelay("soon", now)).toBeUndefined();
    expect(resolveTtlSeconds("10m")).toBe(600);
    expect(resolveTtlSeconds(30)).toBe(30);
    expect(parseIdempotencyKeyTtlMs("1h")).toBe(3_600_000);
    expect(parseIdempotencyKeyTtlMs("1w")).toBeUndefined();
  });
});

describe("batches", () => {
  it("accepts the phase-1 body and rejects a bad runCount by name", () => {
    expect(
      CreateBatchRequestBody.parse({
        runCount: 2,
        taskIdentifiers: ["hello"],
        parentRunId: "run_p",
        resumeParentOnCompletion: true,
        idempotencyKey: "h".repeat(64),
        idempotencyKeyOptions: { key: "k", scope: "global" },
      }).runCount,
    ).toBe(2);
    const bad = CreateBatchRequestBody.safeParse({ runCount: 0 });
    expect(!bad.success && formatZodIssues(bad.error)).toMatch(/^runCount: /);
  });

  it("parses NDJSON lines, naming the line and the field", () => {
    // Verified line sent by the SDK.
    const line =
      '{"index":1,"task":"hello","payload":"str","options":{"payloadType":"text/plain","tags":"b","idempotencyKey":"k","payloadSize":3}}';
    const ok = parseBatchItemLine(line, 2);
    expect(ok.ok && ok.item).toMatchObject({ index: 1, task: "hello", payload: "str", options: { tags: "b" } });
    expect(parseBatchItemLine("{nope", 3)).toEqual({ ok: false, error: "line 3: invalid JSON" });
    const bad = parseBatchItemLine('{"index":-1,"task":"t"}', 4);
    expect(!bad.ok && bad.error).toMatch(/^line 4: index: /);
  });

  it("shapes the batch responses", () => {
    expect(CreateBatchResponse.parse({ id: "batch_1", runCount: 2, isCached: false, idempotencyKey: null })).toEqual({
      id: "batch_1",
      runCount: 2,
      isCached: false,
    });
    expect(
      StreamBatchItemsResponse.parse({ id: "batch_1", itemsAccepted: 2, itemsDeduplicated: 0, sealed: true, enqueuedCount: null }),
    ).toEqual({ id: "batch_1", itemsAccepted: 2, itemsDeduplicated: 0, sealed: true });
    const retrieved = RetrieveBatchV2Response.parse({
      id: "batch_1",
      status: "COMPLETED",
      idempotencyKey: null,
      createdAt: new Date("2026-01-01T00:00:00Z"),
      updatedAt: "2026-01-01T00:00:01.000Z",
      runCount: 1,
      runs: ["run_1"],
      processing: { completedAt: null, errors: [{ index: 0, taskIdentifier: "t", error: "x", errorCode: null }] },
    });
    expect(JSON.parse(JSON.stringify(retrieved))).toEqual({
      id: "batch_1",
      status: "COMPLETED",
      createdAt: "2026-01-01T00:00:00.000Z",
      updatedAt: "2026-01-01T00:00:01.000Z",
      runCount: 1,
      runs: ["run_1"],
      processing: { errors: [{ index: 0, taskIdentifier: "t", error: "x" }] },
    });
  });
});

describe("run object", () => {
  const run: RetrieveRunInput = {
    id: "run_1",
    ...publicStatusFields("COMPLETED_WITH_ERRORS"),
    taskIdentifier: "hello",
    idempotencyKey: null,
    version: "20260101.1",
    isTest: false,
    createdAt: new Date("2026-01-01T00:00:00Z"),
    updatedAt: new Date("2026-01-01T00:00:05Z"),
    startedAt: new Date("2026-01-01T00:00:01Z"),
    finishedAt: new Date("2026-01-01T00:00:05Z"),
    delayedUntil: null,
    ttl: "10m",
    expiredAt: null,
    tags: ["a"],
    costInCents: 0,
    baseCostInCents: 0,
    durationMs: 4000,
    metadata: { m: 1 },
    depth: 0,
    triggerFunction: triggerFunctionFor({ batchId: null, resumeParentOnCompletion: false }),
    batchId: null,
    payload: { a: 1 },
    error: serializeTaskRunError({ type: "BUILT_IN_ERROR", name: "TypeError", message: "bad", stackTrace: "at x" }),
    relatedRuns: {},
    attemptCount: 2,
  };

  it("emits ISO dates, omits nulls and keeps the flags consistent", () => {
    const wire = JSON.parse(JSON.stringify(RetrieveRunResponse.parse(run)));
    expect(wire).toMatchObject({
      status: "FAILED",
      isCompleted: true,
      isFailed: true,
      isSuccess: false,
      createdAt: "2026-01-01T00:00:00.000Z",
      triggerFunction: "trigger",
      error: { name: "TypeError", message: "bad", stackTrace: "at x" },
      relatedRuns: {},
    });
    for (const key of ["idempotencyKey", "delayedUntil", "expiredAt", "batchId", "output", "schedule"]) {
      expect(wire).not.toHaveProperty(key);
    }
    expect(Object.values(wire).includes(null)).toBe(false);
  });

  it("rejects a status outside the client's enum", () => {
    expect(RetrieveRunResponse.safeParse({ ...run, status: "PENDING" }).success).toBe(false);
  });

  it("shapes list pages with env and cursors", () => {
    const { payload: _p, error: _e, relatedRuns: _r, attemptCount: _a, depth: _d, triggerFunction: _t, batchId: _b, ...common } = run;
    const item = ListRunResponseItem.parse({ ...common, env: { id: "env_1", name: "dev", user: null } });
    expect(item.env).toEqual({ id: "env_1", name: "dev" });
    const page = ListRunsResponse.parse({ data: [], pagination: { next: "c1", previous: null } });
    expect(page).toEqual({ data: [], pagination: { next: "c1" } });
  });

  it("derives the trigger function", () => {
    expect(triggerFunctionFor({ batchId: "b", resumeParentOnCompletion: true })).toBe("batchTriggerAndWait");
    expect(triggerFunctionFor({ batchId: "b", resumeParentOnCompletion: false })).toBe("batchTrigger");
    expect(triggerFunctionFor({ resumeParentOnCompletion: true })).toBe("triggerAndWait");
  });

  it("serializes errors for the run object", () => {
    expect(serializeTaskRunError({ type: "STRING_ERROR", raw: "oops" })).toEqual({ message: "oops" });
    expect(serializeTaskRunError({ type: "INTERNAL_ERROR", code: "TASK_RUN_CRASHED" }).message).toContain("TASK_RUN_CRASHED");
  });

  it("shows packets as JSON views", () => {
    expect(packetJsonView('{"json":{"a":1},"meta":{}}', "application/super+json")).toEqual({ a: 1 });
    expect(packetJsonView('{"a":1}', "application/json")).toEqual({ a: 1 });
    expect(packetJsonView("hi", "text/plain")).toBe("hi");
    expect(packetJsonView("trigger/packet_1/payload.json", "application/store")).toBeUndefined();
    expect(packetJsonView("{broken", "application/json")).toBeUndefined();
  });
});

describe("list runs query", () => {
  it("parses every filter the SDK sends", () => {
    const params = new URLSearchParams({
      "filter[status]": "COMPLETED,FAILED",
      "filter[taskIdentifier]": "a,b",
      "filter[version]": "20260101.1",
      "filter[tag]": "t1,t2",
      "filter[bulkAction]": "bulk_1",
      "filter[schedule]": "sched_1",
      "filter[isTest]": "false",
      "filter[createdAt][from]": "1767225600000",
      "filter[createdAt][to]": "1767312000000",
      "filter[createdAt][period]": "1d",
      "filter[batch]": "batch_1",
      "filter[queue]": "task/hello,custom",
      "filter[machine]": "small-1x",
      "filter[region]": "eu",
      "filter[env]": "dev,prod",
      "page[size]": "10",
      "page[after]": "cursor",
    });
    const parsed = parseListRunsQuery(params);
    expect(parsed.success).toBe(true);
    if (!parsed.success) return;
    expect(parsed.data).toEqual({
      pageSize: 10,
      after: "cursor",
      before: undefined,
      statuses: ["COMPLETED", "FAILED"],
      taskIdentifiers: ["a", "b"],
      versions: ["20260101.1"],
      tags: ["t1", "t2"],
      bulkActionId: "bulk_1",
      scheduleId: "sched_1",
      isTest: false,
      createdFrom: new Date(1767225600000),
      createdTo: new Date(1767312000000),
      period: "1d",
      batchId: "batch_1",
      queues: ["task/hello", "custom"],
      machines: ["small-1x"],
      regions: ["eu"],
      envSlugs: ["dev", "prod"],
    });
  });

  it("defaults the page size and rejects bad values with a Query Error naming the parameter", () => {
    const empty = parseListRunsQuery(new URLSearchParams());
    expect(empty.success && empty.data.pageSize).toBe(25);
    const bad = parseListRunsQuery(new URLSearchParams({ "filter[status]": "PENDING", "page[size]": "500" }));
    expect(bad.success).toBe(false);
    if (bad.success) return;
    const body = queryErrorBody(bad.error);
    expect(body.error).toContain("filter[status]");
    expect(body.error).toContain("page[size]");
    expect(body.details.map((d) => d.path).sort()).toEqual(["filter[status].0", "page[size]"]);
  });

  it("round-trips opaque cursors", () => {
    const cursor = encodeCursor({ createdAt: 1767225600000, id: "run_1" });
    expect(decodeCursor(cursor, z.object({ createdAt: z.number(), id: z.string() }))).toEqual({
      createdAt: 1767225600000,
      id: "run_1",
    });
    expect(decodeCursor("garbage!", z.object({ id: z.string() }))).toBeUndefined();
  });
});

describe("run mutations", () => {
  it("accepts replay overrides as the SDK encodes them", () => {
    const body = ReplayRunRequestBody.parse({
      payload: '{"json":{"a":2}}',
      payloadType: "application/super+json",
      tags: "retry",
      concurrencyKey: 3,
      maxAttempts: 2,
    });
    expect(body.concurrencyKey).toBe("3");
    const bad = ReplayRunRequestBody.safeParse({ payload: { a: 1 }, payloadType: "application/super+json" });
    expect(!bad.success && formatZodIssues(bad.error)).toMatch(/^payload: /);
    expect(ReplayRunRequestBody.safeParse({ maxAttempts: 0 }).success).toBe(false);
  });

  it("accepts the reschedule and tags bodies", () => {
    expect(RescheduleRunRequestBody.parse({ delay: "5m" }).delay).toBe("5m");
    expect(RescheduleRunRequestBody.parse({ delay: "2026-01-01T00:00:00.000Z" }).delay).toBe("2026-01-01T00:00:00.000Z");
    expect(AddTagsRequestBody.parse({ tags: "a" }).tags).toBe("a");
    expect(AddTagsRequestBody.safeParse({ tags: 5 }).success).toBe(false);
  });

  it("treats an empty POST body as no body", () => {
    expect(parseOptionalJsonBody("")).toEqual({ ok: true, value: undefined });
    expect(parseOptionalJsonBody(' {"a":1} ')).toEqual({ ok: true, value: { a: 1 } });
    expect(parseOptionalJsonBody("{")).toMatchObject({ ok: false });
  });
});

describe("waitpoint tokens", () => {
  it("accepts the create body and list filters", () => {
    expect(
      CreateWaitpointTokenRequestBody.parse({ idempotencyKey: "raw", idempotencyKeyTTL: "1h", timeout: "10m", tags: ["a"] }),
    ).toMatchObject({ timeout: "10m" });
    const list = parseListWaitpointTokensQuery(
      new URLSearchParams({ "filter[status]": "WAITING,TIMED_OUT", "filter[tags]": "a,b", "page[size]": "5" }),
    );
    expect(list.success && list.data).toMatchObject({ statuses: ["WAITING", "TIMED_OUT"], tags: ["a", "b"], pageSize: 5 });
    expect(parseListWaitpointTokensQuery(new URLSearchParams({ "filter[status]": "PENDING" })).success).toBe(false);
  });

  it("shapes a retrieved token and the timeout output", () => {
    const wire = JSON.parse(
      JSON.stringify(
        WaitpointRetrieveTokenResponse.parse({
          id: "waitpoint_1",
          url: "http://x/cb",
          status: "TIMED_OUT",
          completedAt: new Date("2026-01-01T00:00:10Z"),
          timeoutAt: null,
          idempotencyKey: null,
          idempotencyKeyExpiresAt: null,
          tags: [],
          createdAt: new Date("2026-01-01T00:00:00Z"),
          output: waitpointTimeoutOutput(new Date("2026-01-01T00:00:10Z")),
          outputType: "application/json",
          outputIsError: true,
        }),
      ),
    );
    expect(wire).not.toHaveProperty("timeoutAt");
    expect(JSON.parse(wire.output)).toEqual({
      code: "TRIGGER_WAITPOINT_TIMEOUT",
      message: "Waitpoint timed out at 2026-01-01T00:00:10.000Z",
    });
    expect(WaitForDurationRequestBody.parse({ date: "2026-01-01T00:00:10.000Z" }).date).toBeInstanceOf(Date);
  });
});

describe("headers, errors and misc", () => {
  it("reads the SDK's request headers", () => {
    const headers = new Headers({
      "trigger-version": "4.8.3",
      "x-trigger-api-version": "2025-07-16",
      "x-trigger-request-idempotency-key": "u-1",
      "x-trigger-branch": "default",
      "x-trigger-worker": "true",
      "x-trigger-span-parent-as-link": "1",
    });
    expect(readSdkRequestHeaders(headers)).toEqual({
      sdkVersion: "4.8.3",
      v2Statuses: true,
      requestIdempotencyKey: "u-1",
      branch: undefined,
      fromWorker: true,
      spanParentAsLink: true,
      idempotencyKeyOverride: undefined,
      idempotencyKeyTtlOverride: undefined,
    });
    expect(readSdkRequestHeaders(new Headers()).v2Statuses).toBe(false);
  });

  it("sets x-should-retry only against the client's default", () => {
    expect(shouldRetryHeader(409, false)).toEqual({ "x-should-retry": "false" });
    expect(shouldRetryHeader(503, true)).toEqual({});
    expect(shouldRetryHeader(404, true)).toEqual({ "x-should-retry": "true" });
    expect(shouldRetryHeader(404, false)).toEqual({});
    expect(MISSING_SCOPE_BODY).toMatchObject({ code: "unauthorized", param: "access_token" });
  });

  it("accepts the public-token body and checks packet paths", () => {
    expect(CreatePublicTokenRequestBody.parse({ scopes: ["read:runs:run_1"], expirationTime: 1767225600 }).scopes).toEqual([
      "read:runs:run_1",
    ]);
    expect(CreatePublicTokenRequestBody.safeParse({ scopes: [] }).success).toBe(false);
    expect(decodePacketPath(encodeURIComponent("trigger/packet_1/payload.json"))).toBe("trigger/packet_1/payload.json");
    expect(decodePacketPath(encodeURIComponent("../etc/passwd"))).toBeUndefined();
    expect(decodePacketPath(encodeURIComponent("/abs"))).toBeUndefined();
  });
});
