import { MollifierDrainer, RetryableDrainError, type MollifierBuffer } from "@runplane/redis-worker/mollifier";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { createDrainerHandler, createTerminalFailureHandler } from "~/v3/mollifier/drainerHandler.server";
import { mollifyTrigger } from "~/v3/mollifier/mollify.server";
import { findRunWithMollifierFallback } from "~/v3/mollifier/readFallback.server";
import { triggerWithMollifier } from "~/v3/mollifier/triggerWithMollifier.server";
import { setupHarness, type Harness } from "./harness";

let h: Harness;
beforeEach(async () => {
  h = await setupHarness();
});
afterEach(async () => {
  await h?.close();
});

const deps = () => ({ buffer: h.mollifier.buffer, mintKind: "LEGACY" as const, logger: h.logger });
const handlerDeps = () => ({ engine: h.engine, runStore: h.store, logger: h.logger });

async function triggerThroughPath(overrides = {}) {
  return triggerWithMollifier(
    { ...deps(), config: h.config, runStore: h.store, evaluateTrip: h.mollifier.evaluateTrip },
    { trigger: h.trigger(overrides), orgFeatureFlags: h.env.organization.featureFlags, options: {} },
    {
      next: async () => {
        const { run, isCached } = await h.engine.trigger(h.trigger(overrides));
        return { id: run.friendlyId, isCached, buffered: false };
      },
      runIdOf: (r) => r.id,
      buffered: (r) => ({ id: r.id, isCached: r.isCached, buffered: true }),
    }
  );
}

describe("burst through the trigger path", () => {
  test("threshold 5: the burst is answered at once, every id readable, and after the drain exactly N rows", async () => {
    const N = 60;
    const results = await Promise.all(Array.from({ length: N }, () => triggerThroughPath()));
    expect(new Set(results.map((r) => r.id)).size).toBe(N);
    const buffered = results.filter((r) => r.buffered);
    expect(buffered.length).toBeGreaterThanOrEqual(N - 5 - 5); // a window boundary may let a few more pass
    expect(results.filter((r) => !r.buffered).length).toBeGreaterThanOrEqual(5);
    expect(await h.countRuns()).toBe(N - buffered.length);

    for (const r of buffered.slice(0, 10)) {
      const found = await findRunWithMollifierFallback({ runStore: h.store, buffer: h.mollifier.buffer, logger: h.logger }, { runId: r.id, environmentId: h.env.id });
      expect(found?.isBuffered).toBe(true);
      expect(found?.run.status).toBe("PENDING");
      expect(found?.run.friendlyId).toBe(r.id);
    }

    await h.drainAll();
    expect(await h.countRuns()).toBe(N);
    const rows = await h.store.allClients()[0]!.taskRun.findMany({ select: { friendlyId: true, status: true } });
    expect(new Set(rows.map((r) => r.friendlyId))).toEqual(new Set(results.map((r) => r.id)));
    expect(rows.every((r) => r.status === "PENDING")).toBe(true);
    expect(await h.mollifier.buffer.getDepth()).toBe(0);
  });
});

describe("drainer handler", () => {
  test("replays with the same friendly id and the accept time as createdAt", async () => {
    const { id } = await mollifyTrigger(deps(), { trigger: h.trigger({ tags: ["a"], metadata: JSON.stringify({ x: 1 }) }) });
    const entry = await h.mollifier.buffer.getEntry(id);
    await h.drainAll();
    const row = await h.store.findRun({ friendlyId: id });
    expect(row?.friendlyId).toBe(id);
    expect(row?.runTags).toEqual(["a"]);
    expect(row?.metadata).toBe(JSON.stringify({ x: 1 }));
    expect(row?.createdAt.getTime()).toBe(entry!.createdAt.getTime());
  });

  test("a run cancelled while buffered materialises as CANCELED", async () => {
    const { id } = await mollifyTrigger(deps(), { trigger: h.trigger() });
    await h.mollifier.buffer.mutateSnapshot(id, { type: "mark_cancelled", cancelledAt: new Date(), cancelReason: "stop" });
    await h.drainAll();
    const row = await h.store.findRun({ friendlyId: id });
    expect(row?.status).toBe("CANCELED");
    expect(row?.error).toEqual({ type: "STRING_ERROR", raw: "stop" });
  });

  test("a row that already exists (an earlier attempt got there) counts as done; a buffered cancel is applied to it", async () => {
    const handler = createDrainerHandler(handlerDeps());
    const plain = await mollifyTrigger(deps(), { trigger: h.trigger() });
    const cancelled = await mollifyTrigger(deps(), { trigger: h.trigger() });
    await h.engine.trigger(h.trigger({ friendlyId: plain.id }));
    await h.engine.trigger(h.trigger({ friendlyId: cancelled.id }));
    await h.mollifier.buffer.mutateSnapshot(cancelled.id, { type: "mark_cancelled", cancelledAt: new Date() });

    for (const id of [plain.id, cancelled.id]) {
      const entry = (await h.mollifier.buffer.getEntry(id))!;
      const { entrySnapshot } = await import("@runplane/redis-worker/mollifier");
      await handler({ ...entry, snapshot: entrySnapshot(entry) });
    }
    expect(await h.countRuns()).toBe(2);
    expect((await h.store.findRun({ friendlyId: plain.id }))?.status).toBe("PENDING");
    expect((await h.store.findRun({ friendlyId: cancelled.id }))?.status).toBe("CANCELED");
  });

  test("a non-retryable failure writes a SYSTEM_FAILURE row that keeps the batch link", async () => {
    const { batch } = await h.engine.createBatch({ environment: h.env, runCount: 1 });
    const tooManyTags = Array.from({ length: 11 }, (_, i) => `t${i}`);
    const { id } = await mollifyTrigger(deps(), { trigger: h.trigger({ tags: tooManyTags, batch: { id: batch.friendlyId, index: 0 } }) });
    await h.drainAll();
    const row = await h.store.findRun({ friendlyId: id });
    expect(row?.status).toBe("SYSTEM_FAILURE");
    expect(row?.batchId).toBe(batch.id);
    expect(JSON.stringify(row?.error)).toContain("Mollifier drainer terminal failure");
    expect(await h.mollifier.buffer.getEntry(id)).toBeNull();
  });

  test("an ack lost after a successful replay makes no second run and no SYSTEM_FAILURE row", async () => {
    const buffer = h.mollifier.buffer;
    let failAcks = 3;
    const flaky = Object.create(buffer) as MollifierBuffer;
    flaky.ack = async (runId: string) => {
      if (failAcks-- > 0) throw new Error("ECONNRESET while acking");
      return buffer.ack(runId);
    };
    let replays = 0;
    const handler = createDrainerHandler(handlerDeps());
    const drainer = new MollifierDrainer({
      buffer: flaky,
      handler: async (entry) => {
        replays += 1;
        await handler(entry);
      },
      onTerminalFailure: createTerminalFailureHandler(handlerDeps()),
      reclaimIntervalMs: 0,
      leaseMs: 200,
    });
    const { id } = await mollifyTrigger(deps(), { trigger: h.trigger() });
    for (let i = 0; i < 10 && (await buffer.getDepth()) > 0; i++) {
      await drainer.runOnce();
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(await buffer.getDepth()).toBe(0);
    expect(replays).toBe(1);
    expect(await h.countRuns()).toBe(1);
    expect((await h.store.findRun({ friendlyId: id }))?.status).toBe("PENDING");
  });

  test("a retryable failure is retried after a backoff and the run lands", async () => {
    let failures = 2;
    const handler = createDrainerHandler(handlerDeps());
    const attemptsAt: number[] = [];
    const drainer = new MollifierDrainer({
      buffer: h.mollifier.buffer,
      handler: async (entry) => {
        attemptsAt.push(Date.now());
        if (failures-- > 0) throw new RetryableDrainError("Can't reach database server");
        await handler(entry);
      },
      onTerminalFailure: createTerminalFailureHandler(handlerDeps()),
      maxAttempts: 5,
      backoffFloorMs: 100,
    });
    const { id } = await mollifyTrigger(deps(), { trigger: h.trigger() });
    const deadline = Date.now() + 10_000;
    while ((await h.mollifier.buffer.getDepth()) > 0 && Date.now() < deadline) {
      await drainer.runOnce();
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(attemptsAt).toHaveLength(3);
    expect(attemptsAt[1]! - attemptsAt[0]!).toBeGreaterThanOrEqual(45); // equal jitter: at least half the floor
    expect((await h.store.findRun({ friendlyId: id }))?.status).toBe("PENDING");
  });
});
