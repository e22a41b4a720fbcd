import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../support/testServer";
import { createHarness, sleep, type Harness } from "./support/harness";

/**
 * The worker protocol over raw HTTP (apps/webapp/docs/worker-protocol.md): auth and environment
 * isolation, validation naming the field, the snapshot rule (409 with latestSnapshotId), 404s, 422s,
 * the dequeue long-poll (holds, answers early, honours maxRuns, dequeues nothing for a client that
 * left), waits, and `continue` from an older snapshot.
 */
describe.each([{ split: false }, { split: true }])("worker protocol over HTTP (split: $split)", ({ split }) => {
  let server: TestServer;
  let h: Harness;
  let versionSeq = 0;

  beforeAll(async () => {
    server = await startTestServer({ split });
    h = await createHarness(server, split);
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    await server?.stop();
  }, 60_000);

  // Runs a test leaves dequeued hold queue and environment concurrency: cancel them all.
  const triggered: string[] = [];
  afterEach(async () => {
    await Promise.all(triggered.splice(0).map((runId) => h.engine.cancelRun(runId, { finalize: true }).catch(() => undefined)));
  });
  async function trigger(...args: Parameters<Harness["trigger"]>): Promise<string> {
    const runId = await h.trigger(...args);
    triggered.push(runId);
    return runId;
  }

  type Answer = { status: number; body: any };

  async function call(method: "GET" | "POST", path: string, body?: unknown, key: string | null = server.devSecretKey): Promise<Answer> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (key) headers.authorization = `Bearer ${key}`;
    const res = await fetch(`${server.baseUrl}${path}`, {
      method,
      headers,
      body: method === "POST" ? (typeof body === "string" ? body : JSON.stringify(body ?? {})) : undefined,
    });
    const text = await res.text();
    let json: unknown = text;
    try {
      json = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, body: json };
  }

  const runPath = (runId: string, snapshotId: string, rest: string) => `/api/v1/worker/runs/${runId}/snapshots/${snapshotId}/${rest}`;

  /** Registers a fresh version with these tasks; returns the version. */
  async function register(...taskIds: string[]): Promise<string> {
    const version = `proto.${++versionSeq}`;
    const res = await call("POST", "/api/v1/worker/register", {
      version,
      sdkVersion: "test",
      tasks: taskIds.map((id) => ({ id, queue: { name: `task/${id}` }, retry: { maxAttempts: 2, minTimeoutInMs: 100, maxTimeoutInMs: 100 } })),
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return version;
  }

  async function dequeueOne(version: string): Promise<{ runId: string; snapshotId: string; attemptNumber: number }> {
    const res = await call("POST", "/api/v1/worker/dequeue", { version, maxRuns: 1, waitMs: 5000 });
    expect(res.status).toBe(200);
    expect(res.body.runs).toHaveLength(1);
    return res.body.runs[0];
  }

  /** Trigger → dequeue → start: an executing run and its EXECUTING snapshot. */
  async function executingRun(taskId: string, version: string, options = {}) {
    const runId = await trigger(taskId, { hello: "world" }, options);
    const dequeued = await dequeueOne(version);
    expect(dequeued.runId).toBe(runId);
    const started = await call("POST", runPath(runId, dequeued.snapshotId, "attempts/start"), {});
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    return { runId, pendingSnapshotId: dequeued.snapshotId, snapshotId: started.body.snapshotId as string, execution: started.body.execution };
  }

  const success = { completion: { ok: true, output: '{"json":{"done":true}}', outputType: "application/super+json", usage: { durationMs: 5 } } };

  test("authentication: missing, unknown and public keys are 401", async () => {
    expect((await call("POST", "/api/v1/worker/dequeue", { maxRuns: 1, waitMs: 0 }, null)).status).toBe(401);
    expect((await call("POST", "/api/v1/worker/dequeue", { maxRuns: 1, waitMs: 0 }, "tr_dev_notakey123456")).status).toBe(401);
    const res = await call("POST", "/api/v1/worker/dequeue", { maxRuns: 1, waitMs: 0 }, h.environment.pkApiKey);
    expect(res.status).toBe(401);
    expect(res.body.error).toEqual(expect.any(String));
  });

  test("register validates with the protocol schema (400 naming the field) and upserts by version", async () => {
    const bad = await call("POST", "/api/v1/worker/register", { version: "v", tasks: [{ id: "t", retry: { factor: 11 } }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain("tasks.0.retry.factor");
    const unknownField = await call("POST", "/api/v1/worker/register", { version: "v", tasks: [{ id: "t" }], extra: 1 });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.error).toContain("extra");
    const badId = await call("POST", "/api/v1/worker/register", { version: "v", tasks: [{ id: "has space" }] });
    expect(badId.status).toBe(400);
    expect(badId.body.error).toContain("tasks.0.id");
    const notJson = await call("POST", "/api/v1/worker/register", "{nope");
    expect(notJson.status).toBe(400);

    const body = { version: "upsert.1", tasks: [{ id: "reg-a", machine: "small-2x", maxDuration: 30 }] };
    const first = await call("POST", "/api/v1/worker/register", body);
    expect(first.status).toBe(200);
    expect(first.body.worker).toMatchObject({ friendlyId: expect.stringMatching(/^worker_/), version: "upsert.1" });
    const again = await call("POST", "/api/v1/worker/register", { ...body, tasks: [...body.tasks, { id: "reg-b" }] });
    expect(again.body.worker.id).toBe(first.body.worker.id);
  });

  test("dequeue validates its body, holds an empty long-poll for waitMs, and answers as soon as a run arrives", async () => {
    const bad = await call("POST", "/api/v1/worker/dequeue", { maxRuns: 0, waitMs: 0 });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain("maxRuns");
    expect((await call("POST", "/api/v1/worker/dequeue", { maxRuns: 1, waitMs: 30_001 })).body.error).toContain("waitMs");

    const version = await register("lp-task");
    let startedAt = Date.now();
    const empty = await call("POST", "/api/v1/worker/dequeue", { version, maxRuns: 1, waitMs: 1200 });
    expect(empty.body).toEqual({ runs: [] });
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(1100);

    startedAt = Date.now();
    const held = call("POST", "/api/v1/worker/dequeue", { version, maxRuns: 5, waitMs: 10_000 });
    await sleep(400);
    const runId = await trigger("lp-task", {});
    const answered = await held;
    expect(Date.now() - startedAt).toBeLessThan(5_000);
    expect(answered.body.runs).toEqual([{ runId, snapshotId: expect.stringMatching(/^snapshot_/), attemptNumber: 1, taskIdentifier: "lp-task" }]);
    expect((await h.engine.getLatestSnapshot(runId))?.executionStatus).toBe("PENDING_EXECUTING");

    // Never more than maxRuns.
    const three = await Promise.all([1, 2, 3].map(() => trigger("lp-task", {})));
    const two = await call("POST", "/api/v1/worker/dequeue", { version, maxRuns: 2, waitMs: 1000 });
    expect(two.body.runs).toHaveLength(2);
    const rest = await call("POST", "/api/v1/worker/dequeue", { version, maxRuns: 2, waitMs: 1000 });
    expect(rest.body.runs).toHaveLength(1);
    expect(new Set([...two.body.runs, ...rest.body.runs].map((r: { runId: string }) => r.runId))).toEqual(new Set(three));
  });

  test("a dequeue long-poll whose client went away dequeues nothing", async () => {
    const version = await register("gone-task");
    const abort = new AbortController();
    const held = fetch(`${server.baseUrl}/api/v1/worker/dequeue`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.devSecretKey}`, "content-type": "application/json" },
      body: JSON.stringify({ version, maxRuns: 1, waitMs: 10_000 }),
      signal: abort.signal,
    }).catch(() => null);
    await sleep(300);
    abort.abort();
    await held;
    await sleep(300);
    const runId = await trigger("gone-task", {});
    await sleep(1_000);
    expect((await h.engine.getLatestSnapshot(runId))?.executionStatus).toBe("QUEUED");
    expect((await dequeueOne(version)).runId).toBe(runId);
  });

  test("start: the execution, 404 for foreign or malformed ids, 409 stale with latestSnapshotId, 400 for a body, 422 when finished", async () => {
    const version = await register("start-task");
    const runId = await trigger("start-task", { a: 1 }, { tags: ["t1"], concurrencyKey: "user-1" });
    const { snapshotId } = await dequeueOne(version);

    expect((await call("POST", runPath(runId, snapshotId, "attempts/start"), {}, server.prodSecretKey)).status).toBe(404);
    expect((await call("POST", runPath("run_nope", snapshotId, "attempts/start"), {})).status).toBe(404);
    expect((await call("POST", runPath(runId, "snapshot_nope", "attempts/start"), {})).status).toBe(404);
    const withBody = await call("POST", runPath(runId, snapshotId, "attempts/start"), { unexpected: true });
    expect(withBody.status).toBe(400);
    expect(withBody.body.error).toContain("unexpected");

    const started = await call("POST", runPath(runId, snapshotId, "attempts/start"), "");
    expect(started.status).toBe(200);
    expect(started.body.snapshotId).toMatch(/^snapshot_/);
    expect(started.body.execution).toMatchObject({
      run: { id: runId, payload: '{"a":1}', payloadType: "application/json", tags: ["t1"], isTest: false, concurrencyKey: "user-1", maxAttempts: 2 },
      attempt: { number: 1 },
      task: { id: "start-task" },
      queue: { name: "task/start-task" },
      environment: { id: h.environment.id, slug: h.environment.slug, type: "DEVELOPMENT" },
      organization: { id: h.environment.organizationId },
      project: { id: h.environment.projectId, ref: h.environment.project.externalRef },
    });

    const stale = await call("POST", runPath(runId, snapshotId, "attempts/start"), {});
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ error: "stale snapshot", latestSnapshotId: started.body.snapshotId });
    const staleBeat = await call("POST", runPath(runId, snapshotId, "heartbeat"), {});
    expect(staleBeat.status).toBe(409);
    expect(staleBeat.body.latestSnapshotId).toBe(started.body.snapshotId);
    expect((await call("POST", runPath(runId, started.body.snapshotId, "heartbeat"))).body).toEqual({ ok: true });

    const done = await call("POST", runPath(runId, started.body.snapshotId, "attempts/complete"), success);
    expect(done.body.result).toMatchObject({ attemptStatus: "RUN_FINISHED", snapshotId: expect.stringMatching(/^snapshot_/) });
    const finished = await call("POST", runPath(runId, done.body.result.snapshotId, "attempts/start"), {});
    expect(finished.status).toBe(422);
    expect((await call("POST", runPath(runId, done.body.result.snapshotId, "attempts/complete"), success)).status).toBe(422);
    expect((await h.run(runId)).status).toBe("COMPLETED_SUCCESSFULLY");
  });

  test("complete: 400 naming the field, a failure is retried by the server (RETRY_QUEUED with retryAt)", async () => {
    const version = await register("fail-task");
    const { runId, snapshotId } = await executingRun("fail-task", version);
    const bad = await call("POST", runPath(runId, snapshotId, "attempts/complete"), { completion: { ok: false, error: { type: "WEIRD", message: "x" } } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain("completion.error.type");
    expect((await call("POST", runPath(runId, snapshotId, "attempts/complete"), {})).body.error).toContain("completion");

    const failed = await call("POST", runPath(runId, snapshotId, "attempts/complete"), {
      completion: { ok: false, error: { type: "BUILT_IN_ERROR", name: "Error", message: "nope" }, usage: { durationMs: 3 } },
    });
    expect(failed.status).toBe(200);
    expect(failed.body.result).toMatchObject({ attemptStatus: "RETRY_QUEUED", retryAt: expect.any(String) });
    const second = await dequeueOne(version);
    expect(second).toMatchObject({ runId, attemptNumber: 2 });
  });

  test("wait/duration answers the EXECUTING_WITH_WAITPOINTS snapshot, and continue resumes from it", async () => {
    const version = await register("wait-task");
    const { runId, snapshotId } = await executingRun("wait-task", version);
    expect((await call("POST", runPath(runId, snapshotId, "wait/duration"), { date: "not a date" })).body.error).toContain("date");

    // Already due: the run is continued at once, yet the answer is the block's snapshot.
    const past = await call("POST", runPath(runId, snapshotId, "wait/duration"), { date: new Date(Date.now() - 1000).toISOString() });
    expect(past.status).toBe(200);
    expect(past.body.waitpointId).toMatch(/^waitpoint_/);
    const latest = await h.engine.getLatestSnapshot(runId);
    expect(latest?.executionStatus).toBe("EXECUTING");
    expect(`snapshot_${latest?.id}`).not.toBe(past.body.snapshotId);
    const resumedNow = await call("GET", `${runPath(runId, past.body.snapshotId, "continue")}?waitMs=0`);
    expect(resumedNow.body).toMatchObject({
      status: "resumed",
      snapshotId: `snapshot_${latest?.id}`,
      completedWaitpoints: [{ friendlyId: past.body.waitpointId, type: "DATETIME", outputIsError: false }],
    });

    // Due in 1 s: waiting, then resumed within the long-poll.
    const soon = await call("POST", runPath(runId, resumedNow.body.snapshotId, "wait/duration"), { date: new Date(Date.now() + 1000).toISOString() });
    expect((await call("GET", `${runPath(runId, soon.body.snapshotId, "continue")}?waitMs=0`)).body).toEqual({ status: "waiting" });
    expect((await call("GET", `${runPath(runId, soon.body.snapshotId, "continue")}?waitMs=nope`)).body.error).toContain("waitMs");
    const startedAt = Date.now();
    const resumed = await call("GET", `${runPath(runId, soon.body.snapshotId, "continue")}?waitMs=10000`);
    expect(resumed.body.status).toBe("resumed");
    expect(resumed.body.completedWaitpoints.map((w: { friendlyId: string }) => w.friendlyId)).toEqual([soon.body.waitpointId]);
    expect(Date.now() - startedAt).toBeLessThan(5_000);
    expect((await call("POST", runPath(runId, resumed.body.snapshotId, "attempts/complete"), success)).body.result.attemptStatus).toBe("RUN_FINISHED");
  });

  test("wait/token: 404 for an unknown or foreign token; the token's timeout resumes with the timeout error", async () => {
    const version = await register("token-task");
    const { runId, snapshotId } = await executingRun("token-task", version);
    expect((await call("POST", runPath(runId, snapshotId, "wait/token"), { waitpointId: "waitpoint_nope" })).status).toBe(404);
    const prodToken = await call("POST", "/api/v1/waitpoints/tokens", {}, server.prodSecretKey);
    expect(prodToken.status).toBe(200);
    expect((await call("POST", runPath(runId, snapshotId, "wait/token"), { waitpointId: prodToken.body.id })).status).toBe(404);
    expect((await h.engine.getLatestSnapshot(runId))?.executionStatus).toBe("EXECUTING");

    const token = await call("POST", "/api/v1/waitpoints/tokens", {});
    const waitpoint = { friendlyId: token.body.id as string };
    const waited = await call("POST", runPath(runId, snapshotId, "wait/token"), {
      waitpointId: waitpoint.friendlyId,
      timeout: new Date(Date.now() + 500).toISOString(),
    });
    expect(waited.body).toEqual({ snapshotId: expect.stringMatching(/^snapshot_/), waitpointId: waitpoint.friendlyId });
    const resumed = await call("GET", `${runPath(runId, waited.body.snapshotId, "continue")}?waitMs=10000`);
    expect(resumed.body.status).toBe("resumed");
    const [wp] = resumed.body.completedWaitpoints;
    expect(wp).toMatchObject({ friendlyId: waitpoint.friendlyId, type: "MANUAL", outputIsError: true });
    expect(JSON.parse(wp.output)).toMatchObject({ code: "TRIGGER_WAITPOINT_TIMEOUT" });
  });

  test("continue from an older snapshot: waiting while a child runs, resumed with its output, cancelled after a cancel", async () => {
    const version = await register("parent-task", "child-task");
    const parent = await executingRun("parent-task", version);
    // A triggerAndWait blocks the parent behind the worker's back (as the public trigger route does).
    const childId = await trigger("child-task", { x: 1 }, { parentRunId: parent.runId, resumeParentOnCompletion: true });
    expect((await h.engine.getLatestSnapshot(parent.runId))?.executionStatus).toBe("EXECUTING_WITH_WAITPOINTS");
    const beat = await call("POST", runPath(parent.runId, parent.snapshotId, "heartbeat"));
    expect(beat.status).toBe(409);
    expect((await call("GET", `${runPath(parent.runId, parent.snapshotId, "continue")}?waitMs=0`)).body).toEqual({ status: "waiting" });
    // The snapshot must be the run's own.
    expect((await call("GET", `${runPath(childId, parent.snapshotId, "continue")}?waitMs=0`)).status).toBe(404);
    expect((await call("GET", `${runPath(parent.runId, parent.snapshotId, "continue")}?waitMs=0`, undefined, server.prodSecretKey)).status).toBe(404);

    const polling = call("GET", `${runPath(parent.runId, parent.snapshotId, "continue")}?waitMs=15000`);
    const child = await dequeueOne(version);
    expect(child.runId).toBe(childId);
    const childStarted = await call("POST", runPath(childId, child.snapshotId, "attempts/start"), {});
    await call("POST", runPath(childId, childStarted.body.snapshotId, "attempts/complete"), {
      completion: { ok: true, output: '{"json":{"child":"ok"}}', outputType: "application/super+json" },
    });
    const resumed = await polling;
    expect(resumed.body).toMatchObject({
      status: "resumed",
      completedWaitpoints: [{ type: "RUN", output: '{"json":{"child":"ok"}}', outputType: "application/super+json", outputIsError: false, completedByTaskRunId: childId }],
    });

    // Cancelled while executing: continue says cancelled with the PENDING_CANCEL snapshot; acknowledging finishes it.
    const held = call("GET", `${runPath(parent.runId, resumed.body.snapshotId, "continue")}?waitMs=15000`);
    await sleep(200);
    await h.cancel(parent.runId);
    const cancelled = await held;
    expect(cancelled.body).toEqual({ status: "cancelled", snapshotId: expect.stringMatching(/^snapshot_/) });
    // A worker still computing learns it from its next heartbeat: 409 naming the PENDING_CANCEL snapshot.
    const beatAfterCancel = await call("POST", runPath(parent.runId, resumed.body.snapshotId, "heartbeat"));
    expect(beatAfterCancel.status).toBe(409);
    expect(beatAfterCancel.body.latestSnapshotId).toBe(cancelled.body.snapshotId);
    const ack = await call("POST", runPath(parent.runId, cancelled.body.snapshotId, "attempts/complete"), {
      completion: { ok: false, error: { type: "INTERNAL_ERROR", code: "TASK_RUN_CANCELLED", message: "cancelled" }, skipRetrying: true },
    });
    expect(ack.body.result.attemptStatus).toBe("RUN_FINISHED");
    expect((await h.run(parent.runId)).status).toBe("CANCELED");
  });
});
