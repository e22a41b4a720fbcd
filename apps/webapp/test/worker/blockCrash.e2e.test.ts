import { describe, expect, test } from "vitest";
import { expectNoHeldSlots } from "../support/noLeaks";
import { startTestServer, type TestServer } from "../support/testServer";
import { createHarness, sleep } from "./support/harness";

/**
 * A run blocks in two stores: the EXECUTING_WITH_WAITPOINTS snapshot (Postgres), then the release of
 * its slots (Redis). A server process SIGKILLed between the two (test failpoint) leaves a waiting run
 * holding its environment slot; after a restart the repair sweep releases it, and the run still resumes
 * when its token completes. Raw worker protocol, so nothing but the sweep touches the run meanwhile.
 */
describe.each([{ split: false }, { split: true }])("a crash between block and release is repaired (split: $split)", ({ split }) => {
  async function call(server: TestServer, method: "GET" | "POST", path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const res = await fetch(`${server.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${server.devSecretKey}`, "content-type": "application/json" },
      body: method === "POST" ? JSON.stringify(body ?? {}) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  test("SIGKILL after the block transition: the restarted server's repair sweep releases the slots; the run resumes and finishes", async () => {
    const server = await startTestServer({
      split,
      env: { RUNPLANE_TEST_FAILPOINT: "block:afterTransition", RUN_ENGINE_REPAIR_INTERVAL_MS: "300" },
    });
    const h = await createHarness(server, split);
    try {
      const version = "crash.1";
      const registered = await call(server, "POST", "/api/v1/worker/register", { version, sdkVersion: "test", tasks: [{ id: "crash-waiter" }] });
      expect(registered.status).toBe(200);
      const runId = await h.trigger("crash-waiter", {});
      const dequeued = await call(server, "POST", "/api/v1/worker/dequeue", { version, maxRuns: 1, waitMs: 5000 });
      expect(dequeued.body.runs).toHaveLength(1);
      const path = (snapshotId: string, rest: string) => `/api/v1/worker/runs/${runId}/snapshots/${snapshotId}/${rest}`;
      const started = await call(server, "POST", path(dequeued.body.runs[0].snapshotId, "attempts/start"));
      expect(started.status).toBe(200);
      const token = await call(server, "POST", "/api/v1/waitpoints/tokens", {});
      expect(token.status).toBe(200);

      // The wait request never gets an answer: the process dies at the failpoint.
      await expect(call(server, "POST", path(started.body.snapshotId, "wait/token"), { waitpointId: token.body.id })).rejects.toThrow();
      const deadline = Date.now() + 15_000;
      while (server.pid() !== undefined && Date.now() < deadline) await sleep(50);
      expect(server.pid()).toBeUndefined();

      // What the crash left: the run waits (Postgres) yet still holds its slots (Redis).
      const internalId = (await h.run(runId)).id;
      expect((await h.engine.getLatestSnapshot(runId))?.executionStatus).toBe("EXECUTING_WITH_WAITPOINTS");
      expect((await h.engine.runQueue.heldSlots(h.environment.id)).env).toEqual([internalId]);

      await server.restart({ RUNPLANE_TEST_FAILPOINT: "" });
      await expectNoHeldSlots(h.engine.runQueue, [h.environment.id], 20_000);
      // the sweep logs after it released: the line may reach us through the pipe a moment later
      const logged = () => (server.output().stdout + server.output().stderr).includes("a waiting run still held its slots; released");
      const logDeadline = Date.now() + 10_000;
      while (!logged() && Date.now() < logDeadline) await sleep(50);
      expect(server.output().stdout + server.output().stderr).toContain("a waiting run still held its slots; released");
      expect((await h.engine.getLatestSnapshot(runId))?.executionStatus).toBe("EXECUTING_WITH_WAITPOINTS");

      const completed = await call(server, "POST", `/api/v1/waitpoints/tokens/${token.body.id}/complete`, { data: { ok: 1 } });
      expect(completed.status).toBe(200);
      const resumed = await call(server, "GET", `${path(started.body.snapshotId, "continue")}?waitMs=10000`);
      expect(resumed.body.status).toBe("resumed");
      const done = await call(server, "POST", path(resumed.body.snapshotId, "attempts/complete"), {
        completion: { ok: true, output: '{"json":"done"}', outputType: "application/super+json", usage: { durationMs: 5 } },
      });
      expect(done.body.result.attemptStatus).toBe("RUN_FINISHED");
      expect((await h.run(runId)).status).toBe("COMPLETED_SUCCESSFULLY");
      await expectNoHeldSlots(h.engine.runQueue, [h.environment.id, h.prodEnvironment.id]);
    } finally {
      await h.close();
      await server.stop();
    }
  }, 180_000);
});
