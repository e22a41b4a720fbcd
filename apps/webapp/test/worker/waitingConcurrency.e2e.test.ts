import { task, wait } from "@runplane/worker";
import { describe, expect, test } from "vitest";
import { expectNoHeldSlots } from "../support/noLeaks";
import { startTestServer } from "../support/testServer";
import { createHarness, decodeOutput, FINAL_STATUSES, sleep, type Harness } from "./support/harness";

const outputOf = (run: { output: string | null; outputType: string }) => decodeOutput(run.output, run.outputType) as any;

/**
 * A waiting run gives its concurrency back (issue: fan-out wider than the environment limit used to
 * deadlock) and takes it back, within every limit, before it resumes. Real server, real workers, in
 * single and split mode; every scenario ends with the no-leak assertion.
 */
describe.each([{ split: false }, { split: true }])("waiting runs free their concurrency (split: $split)", ({ split }) => {
  /** A server whose environments have `envLimit` slots, a harness on it, and the no-leak check at the end. */
  async function scenario(envLimit: number, fn: (h: Harness) => Promise<void>): Promise<void> {
    const server = await startTestServer({ split, env: { DEFAULT_ENV_CONCURRENCY_LIMIT: String(envLimit) } });
    const h = await createHarness(server, split);
    try {
      await fn(h);
      await h.stopWorkers();
      await expectNoHeldSlots(h.engine.runQueue, [h.environment.id, h.prodEnvironment.id]);
    } catch (error) {
      if (process.env.SHOW_WORKER_LOGS) console.log(h.workerLogs.join("\n"));
      throw error;
    } finally {
      await h.close();
      await server.stop();
    }
  }

  /** Counts task code running outside its waits; `max` must never pass the environment limit. */
  function activity() {
    const state = { active: 0, max: 0 };
    return {
      state,
      async busy(ms: number) {
        state.active++;
        state.max = Math.max(state.max, state.active);
        await sleep(ms);
        state.active--;
      },
    };
  }

  async function completeToken(h: Harness, tokenId: string, data: unknown): Promise<void> {
    const res = await fetch(`${h.apiUrl}/api/v1/waitpoints/tokens/${tokenId}/complete`, {
      method: "POST",
      headers: { authorization: `Bearer ${h.server.devSecretKey}`, "content-type": "application/json" },
      body: JSON.stringify({ data }),
    });
    expect(res.status).toBe(200);
  }

  test("50 parents each triggerAndWait a child with an environment limit of 5: all 100 runs complete", async () => {
    await scenario(5, async (h) => {
      const a = activity();
      const child = task({
        id: "fan-child",
        run: async (payload: { i: number }) => {
          await a.busy(10);
          return payload.i * 2;
        },
      });
      const parent = task({
        id: "fan-parent",
        run: async (payload: { i: number }) => {
          await a.busy(5);
          const result = await child.triggerAndWait({ i: payload.i });
          await a.busy(5);
          return result.ok ? result.output : -1;
        },
      });
      await h.startWorker({ tasks: [child, parent], concurrency: 20 });
      const parents = await Promise.all(Array.from({ length: 50 }, (_, i) => h.trigger("fan-parent", { i })));
      for (const [i, runId] of parents.entries()) {
        const run = await h.waitForStatus(runId, FINAL_STATUSES, 180_000);
        expect(run.status).toBe("COMPLETED_SUCCESSFULLY");
        // The child's output reached its parent: all 100 runs completed.
        expect(outputOf(run)).toBe(i * 2);
      }
      expect(a.state.max).toBeLessThanOrEqual(5);
    });
  }, 300_000);

  test("20 parents with batchTriggerAndWait of 5 items with an environment limit of 2: all complete", async () => {
    await scenario(2, async (h) => {
      const a = activity();
      const item = task({
        id: "batch-item",
        run: async (payload: { n: number }) => {
          await a.busy(5);
          return payload.n + 1;
        },
      });
      const parent = task({
        id: "batch-parent",
        run: async () => {
          const results = await item.batchTriggerAndWait(Array.from({ length: 5 }, (_, n) => ({ payload: { n } })));
          return results.runs.map((r) => (r.ok ? r.output : null));
        },
      });
      await h.startWorker({ tasks: [item, parent], concurrency: 10 });
      const parents = await Promise.all(Array.from({ length: 20 }, () => h.trigger("batch-parent", {})));
      for (const runId of parents) {
        const run = await h.waitForStatus(runId, FINAL_STATUSES, 180_000);
        expect(run.status, JSON.stringify(run.error)).toBe("COMPLETED_SUCCESSFULLY");
        expect(outputOf(run)).toEqual([1, 2, 3, 4, 5]);
      }
      expect(a.state.max).toBeLessThanOrEqual(2);
    });
  }, 300_000);

  test("10 runs wait on tokens with an environment limit of 3: other runs execute meanwhile; the token runs resume when completed", async () => {
    await scenario(3, async (h) => {
      const a = activity();
      const waiter = task({
        id: "token-waiter",
        run: async (payload: { tokenId: string }) => {
          await a.busy(5);
          const result = await wait.forToken<{ n: number }>(payload.tokenId);
          await a.busy(20);
          return result.ok ? result.output.n : -1;
        },
      });
      const quick = task({
        id: "quick",
        run: async (payload: { q: number }) => {
          await a.busy(5);
          return payload.q;
        },
      });
      await h.startWorker({ tasks: [waiter, quick], concurrency: 20 });
      const tokens: string[] = [];
      for (let i = 0; i < 10; i++) {
        const res = await fetch(`${h.apiUrl}/api/v1/waitpoints/tokens`, {
          method: "POST",
          headers: { authorization: `Bearer ${h.server.devSecretKey}`, "content-type": "application/json" },
          body: "{}",
        });
        tokens.push(((await res.json()) as { id: string }).id);
      }
      const waiting = await Promise.all(tokens.map((tokenId) => h.trigger("token-waiter", { tokenId })));
      for (const runId of waiting) await h.waitForExecutionStatus(runId, "EXECUTING_WITH_WAITPOINTS", 60_000);
      // Ten runs wait and none of them holds a slot, so the limit of 3 is free for other work.
      await expectNoHeldSlots(h.engine.runQueue, [h.environment.id]);
      const quickRuns = await Promise.all(Array.from({ length: 6 }, (_, q) => h.trigger("quick", { q })));
      for (const runId of quickRuns) expect((await h.waitForStatus(runId, FINAL_STATUSES, 60_000)).status).toBe("COMPLETED_SUCCESSFULLY");
      for (const runId of waiting) expect((await h.engine.getLatestSnapshot(runId))?.executionStatus).toBe("EXECUTING_WITH_WAITPOINTS");
      // The operator sees them apart on /metrics (per environment type, no ids).
      const scrape = await (await fetch(`${h.apiUrl}/metrics`)).text();
      expect(scrape).toContain('runplane_runs_waiting{environment_type="DEVELOPMENT",state="blocked"} 10');
      expect(scrape).toContain('runplane_runs_executing{environment_type="DEVELOPMENT"} 0');
      expect(scrape).not.toMatch(/runplane_runs_\w+\{[^}]*(environment_id|run_)/);

      // All tokens at once: at most 3 resume together, the rest wait as continue messages.
      await Promise.all(tokens.map((tokenId, n) => completeToken(h, tokenId, { n })));
      for (const [n, runId] of waiting.entries()) {
        const run = await h.waitForStatus(runId, FINAL_STATUSES, 60_000);
        expect(run.status).toBe("COMPLETED_SUCCESSFULLY");
        expect(outputOf(run)).toBe(n);
      }
      expect(a.state.max).toBeLessThanOrEqual(3);
    });
  }, 300_000);

  test("releaseConcurrencyOnWaitpoint: false keeps the queue slot; triggerAndWait into that full queue fails at once with a clear error", async () => {
    await scenario(10, async (h) => {
      const strictQueue = { name: "strict", concurrencyLimit: 1, releaseConcurrencyOnWaitpoint: false };
      const strictChild = task({ id: "strict-child", queue: strictQueue, run: async () => "child ran" });
      const strictParent = task({
        id: "strict-parent",
        queue: strictQueue,
        run: async () => {
          try {
            await strictChild.triggerAndWait({});
            return "no error";
          } catch (error) {
            return (error as Error).message;
          }
        },
      });
      // The default (release) on the same shape of queue: the child gets the parent's slot.
      const sharedQueue = { name: "shared", concurrencyLimit: 1 };
      const sharedChild = task({ id: "shared-child", queue: sharedQueue, run: async () => "child ran" });
      const sharedParent = task({
        id: "shared-parent",
        queue: sharedQueue,
        run: async () => {
          const result = await sharedChild.triggerAndWait({});
          return result.ok ? result.output : "child failed";
        },
      });
      const keeper = task({
        id: "keeper",
        queue: { name: "kept", concurrencyLimit: 1, releaseConcurrencyOnWaitpoint: false },
        run: async (payload: { tokenId: string }) => {
          await wait.forToken(payload.tokenId);
          return "resumed";
        },
      });
      await h.startWorker({ tasks: [strictChild, strictParent, sharedChild, sharedParent, keeper], concurrency: 5 });

      const strict = await h.waitForStatus(await h.trigger("strict-parent", {}), FINAL_STATUSES, 60_000);
      expect(strict.status).toBe("COMPLETED_SUCCESSFULLY");
      const message = outputOf(strict);
      expect(message).toContain('Cannot triggerAndWait into queue "strict"');
      expect(message).toContain("releaseConcurrencyOnWaitpoint: false");

      const shared = await h.waitForStatus(await h.trigger("shared-parent", {}), FINAL_STATUSES, 60_000);
      expect(shared.status).toBe("COMPLETED_SUCCESSFULLY");
      expect(outputOf(shared)).toBe("child ran");

      // A waiting run of an opted-out queue gives its environment slot back and keeps its queue slot.
      const token = await fetch(`${h.apiUrl}/api/v1/waitpoints/tokens`, {
        method: "POST",
        headers: { authorization: `Bearer ${h.server.devSecretKey}`, "content-type": "application/json" },
        body: "{}",
      }).then((r) => r.json() as Promise<{ id: string }>);
      const kept = await h.trigger("keeper", { tokenId: token.id });
      await h.waitForExecutionStatus(kept, "EXECUTING_WITH_WAITPOINTS", 30_000);
      const deadline = Date.now() + 10_000;
      let held = await h.engine.runQueue.heldSlots(h.environment.id);
      while (held.env.length > 0 && Date.now() < deadline) {
        await sleep(100);
        held = await h.engine.runQueue.heldSlots(h.environment.id);
      }
      expect(held.env).toEqual([]);
      expect(Object.values(held.queueAndKeySets).flat()).toContain((await h.run(kept)).id);
      await completeToken(h, token.id, {});
      expect((await h.waitForStatus(kept, FINAL_STATUSES, 30_000)).status).toBe("COMPLETED_SUCCESSFULLY");
    });
  }, 300_000);
});
