import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { logger, task, wait } from "@runplane/worker";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../support/testServer";
import { createHarness, FINAL_STATUSES, type Harness } from "./support/harness";

type TraceSpan = {
  id: string;
  parentId?: string;
  runId: string;
  data: { message: string; isError: boolean; isPartial: boolean; level: string; duration: number; properties?: Record<string, unknown>; events?: Array<{ name: string; attributes: Record<string, unknown> }> };
  children: TraceSpan[];
};

function flatten(span: TraceSpan): TraceSpan[] {
  return [span, ...span.children.flatMap(flatten)];
}

/**
 * A run's trace end to end with a real worker: what the worker exports over OTLP (logger.*, console.*,
 * its task span) and what the engine records (queued, attempts, the wait, the retry delay, the child
 * run in the same trace), read back through the trace, span and events API — single and split mode.
 */
describe.each([{ split: false }, { split: true }])("run traces (split: $split)", ({ split }) => {
  let server: TestServer;
  let h: Harness;

  beforeAll(async () => {
    server = await startTestServer({ split });
    h = await createHarness(server, split);
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    await server?.stop();
  }, 60_000);
  afterEach(async () => {
    await h.stopWorkers();
    h.workerLogs.splice(0);
  }, 60_000);

  async function get(path: string, key = server.devSecretKey) {
    const res = await fetch(`${h.apiUrl}${path}`, { headers: { authorization: `Bearer ${key}` } });
    return { status: res.status, body: (await res.json()) as any };
  }

  /** Polls the trace until `ready` holds (spans are written in batches, just after the events they record). */
  async function traceWhen(runId: string, ready: (spans: TraceSpan[]) => boolean): Promise<{ traceId: string; root: TraceSpan; spans: TraceSpan[] }> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const res = await get(`/api/v1/runs/${runId}/trace`);
      expect(res.status).toBe(200);
      const spans = flatten(res.body.trace.rootSpan);
      if (ready(spans)) return { traceId: res.body.trace.traceId, root: res.body.trace.rootSpan, spans };
      if (Date.now() > deadline) throw new Error(`trace of ${runId} never became complete:\n${JSON.stringify(res.body, null, 1).slice(0, 6000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  test("logs, a child run, a 2 s wait and a failed first attempt all appear in the run's trace", async () => {
    const child = task({ id: "trace-child", run: async () => (logger.info("child working"), { ok: true }) });
    const parent = task({
      id: "trace-parent",
      retry: { maxAttempts: 2, minTimeoutInMs: 100, maxTimeoutInMs: 200, factor: 1 },
      run: async (_payload: unknown, { ctx }) => {
        logger.info("parent says hello", { attempt: ctx.attempt.number });
        console.log("a console line from attempt %d", ctx.attempt.number);
        if (ctx.attempt.number === 1) throw new Error("first attempt fails");
        const result = await child.triggerAndWait({});
        logger.warn("child finished", { ok: result.ok });
        await wait.for({ seconds: 2 });
        return { done: true };
      },
    });
    // localWaitThresholdMs 0: the 2 s wait blocks the run on the server (a real waitpoint)
    await h.startWorker({ tasks: [parent, child], localWaitThresholdMs: 0 });
    const runId = await h.trigger("trace-parent", {});
    const run = await h.waitForStatus(runId, FINAL_STATUSES, 40_000);
    expect(run.status).toBe("COMPLETED_SUCCESSFULLY");

    const { traceId, root, spans } = await traceWhen(runId, (all) => !all[0]!.data.isPartial && all.some((s) => s.data.message === "Wait 2s"));
    expect(root).toMatchObject({ id: run.spanId, runId, data: { message: "trace-parent", isError: false, isPartial: false } });
    expect(traceId).toBe(run.traceId);
    const messages = spans.map((s) => s.data.message);

    // both attempts, the first failed with its stack, and the retry delay between them
    const attempt1 = spans.find((s) => s.data.message === "Attempt 1")!;
    const attempt2 = spans.find((s) => s.data.message === "Attempt 2")!;
    expect(attempt1.data.isError).toBe(true);
    expect(attempt1.data.events?.[0]?.attributes["exception.message"]).toContain("first attempt fails");
    expect(String(attempt1.data.events?.[0]?.attributes["exception.stacktrace"])).toContain("traces.e2e.test.ts");
    expect(attempt2.data.isError).toBe(false);
    // queued → dequeued once (the requeue before attempt 2 is the retry delay)
    expect(spans.filter((s) => s.data.message === "Queued" && s.runId === runId)).toHaveLength(1);
    const retry = spans.find((s) => s.data.message === "Retry delay before attempt 2")!;
    expect(retry.data.isPartial).toBe(false);
    expect(retry.data.properties).toMatchObject({ "retry.attempt": 2, "retry.delay_ms": expect.any(Number), "retry.at": expect.any(String) });

    // every log line, under the attempt that wrote it
    const logs = spans.filter((s) => s.data.level !== "TRACE");
    expect(logs.filter((s) => s.data.message === "parent says hello").map((s) => s.parentId).sort()).toEqual([attempt1.id, attempt2.id].sort());
    expect(messages).toContain("a console line from attempt 1");
    expect(messages).toContain("a console line from attempt 2");
    expect(logs.find((s) => s.data.message === "child finished")?.data.level).toBe("WARN");

    // the child run: its own span in the parent's trace, under attempt 2, linked by its run id
    const childRoot = spans.find((s) => s.data.message === "trace-child")!;
    expect(childRoot.runId).not.toBe(runId);
    expect(childRoot.parentId).toBe(attempt2.id);
    expect(flatten(childRoot).map((s) => s.data.message)).toContain("child working");
    const childRun = await h.run(childRoot.runId);
    expect(childRun.traceId).toBe(run.traceId);
    expect(messages).toContain(`Wait for run ${childRoot.runId}`);

    // the 2 s wait: a DATETIME waitpoint under attempt 2, with its wake-up time
    const waitSpan = spans.find((s) => s.data.message === "Wait 2s")!;
    expect(waitSpan.parentId).toBe(attempt2.id);
    expect(waitSpan.data.properties).toMatchObject({ "waitpoint.type": "DATETIME", "wait.until": expect.any(String) });

    // one span's detail, and the flat events list
    const detail = await get(`/api/v1/runs/${runId}/spans/${attempt2.id}`);
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({ spanId: attempt2.id, runId, message: "Attempt 2", isError: false });
    expect(detail.body.triggeredRuns?.map((r: { runId: string }) => r.runId)).toEqual([childRoot.runId]);
    const events = await get(`/api/v1/runs/${runId}/events`);
    expect(events.body.events.map((e: { message: string }) => e.message)).toEqual(expect.arrayContaining(["parent says hello", "trace-child", "Attempt 1", "Attempt 2"]));

    // the published client parses every read with its own schemas (@trigger.dev/core 4.8.3 ApiClient)
    const coreDir = path.join(path.dirname(createRequire(import.meta.url).resolve("@trigger.dev/sdk/package.json")), "..", "core");
    const core = await import(pathToFileURL(path.join(coreDir, "dist/esm/v3/index.js")).href);
    const client = new core.ApiClient(h.apiUrl, server.devSecretKey);
    const published = await client.retrieveRunTrace(runId);
    expect(published.trace.rootSpan.children.map((c: { data: { message: string } }) => c.data.message)).toEqual(expect.arrayContaining(["Attempt 1", "Attempt 2"]));
    expect((await client.retrieveSpan(runId, attempt1.id)).isError).toBe(true);
    const page = await client.retrieveRunTracePage(runId, { limit: 5 });
    expect(page.data).toHaveLength(5);
    expect(page.attemptFailures).toEqual([expect.objectContaining({ attemptNumber: 1, runId })]);
    expect(page.pagination.next).toBeDefined();
    expect((await client.listRunEvents(runId)).events.length).toBeGreaterThan(10);

    // another environment's key does not see this run (its trace, spans and events)
    expect((await get(`/api/v1/runs/${runId}/trace`, server.prodSecretKey)).status).toBe(404);
    expect((await get(`/api/v1/runs/${runId}/spans/${attempt2.id}`, server.prodSecretKey)).status).toBe(404);
  });

  test("a wait shows in the trace while the run waits, and closes when the token completes", async () => {
    let tokenId!: (id: string) => void;
    const token = new Promise<string>((resolve) => (tokenId = resolve));
    const approval = task({
      id: "trace-approval",
      run: async () => {
        const created = await wait.createToken({ timeout: "1m" });
        tokenId(created.id);
        await wait.forToken(created);
        return "approved";
      },
    });
    await h.startWorker({ tasks: [approval] });
    const runId = await h.trigger("trace-approval", {});
    const id = await token;
    await h.waitForExecutionStatus(runId, "EXECUTING_WITH_WAITPOINTS");
    const waiting = await traceWhen(runId, (all) => all.some((s) => s.data.message === `Wait for token ${id}`));
    expect(waiting.root.data.isPartial).toBe(true);
    expect(waiting.spans.find((s) => s.data.message === `Wait for token ${id}`)).toMatchObject({ data: { isPartial: true, properties: { "wait.token.id": id } } });

    const res = await fetch(`${h.apiUrl}/api/v1/waitpoints/tokens/${id}/complete`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.devSecretKey}`, "content-type": "application/json" },
      body: JSON.stringify({ data: { ok: true } }),
    });
    expect(res.status).toBe(200);
    await h.waitForStatus(runId, FINAL_STATUSES);
    await traceWhen(runId, (all) => !all[0]!.data.isPartial && all.some((s) => s.data.message === `Wait for token ${id}` && !s.data.isPartial));
  });
});
