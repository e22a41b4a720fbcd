import { describe, expect, vi } from "vitest";
import { redisTest } from "@internal/testcontainers";
import {
  MollifierDrainer,
  RetryableDrainError,
  type DrainEntry,
  type DrainFailure,
  type MollifierBuffer,
  type MollifierDrainerOptions,
  type TerminalEntry,
} from "../src/mollifier/index.js";
import { acceptInput, makeBuffer, sleep, waitFor } from "./mollifierHelpers.js";

function makeDrainer(buffer: MollifierBuffer, options: Partial<MollifierDrainerOptions> & Pick<MollifierDrainerOptions, "handler">) {
  return new MollifierDrainer({ buffer, pollIntervalMs: 10, reclaimIntervalMs: 0, ...options });
}

function connectionRefused(): Error {
  return Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe("MollifierDrainer.runOnce", () => {
  redisTest("replays an entry through the handler with its patched snapshot, then acks", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await buffer.accept(acceptInput("run_1", { snapshot: { friendlyId: "run_1", tags: ["a"] } }));
    await buffer.mutateSnapshot("run_1", { type: "mark_cancelled", cancelledAt: new Date("2030-01-01T00:00:00Z") });
    const seen: DrainEntry[] = [];
    const drainer = makeDrainer(buffer, { handler: async (e) => void seen.push(e) });
    expect(await drainer.runOnce()).toEqual({ drained: 1, retried: 0, failed: 0, popErrors: 0 });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ runId: "run_1", envId: "env_a", orgId: "org_a", attempts: 0 });
    expect(seen[0]!.snapshot).toMatchObject({ friendlyId: "run_1", tags: ["a"], cancelledAt: "2030-01-01T00:00:00.000Z" });
    expect((await buffer.getEntry("run_1"))!.status).toBe("MATERIALISED");
    expect(await buffer.getDepth()).toBe(0);
    expect(await drainer.runOnce()).toEqual({ drained: 0, retried: 0, failed: 0, popErrors: 0 });
    await buffer.close();
  });

  redisTest("an env with only delayed entries yields no work", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await buffer.accept(acceptInput("run_1"));
    await buffer.pop({ envId: "env_a", orgId: "org_a", leaseMs: 60_000 });
    await buffer.requeue("run_1", { delayMs: 60_000 });
    const handler = vi.fn(async () => {});
    expect(await makeDrainer(buffer, { handler }).runOnce()).toEqual({ drained: 0, retried: 0, failed: 0, popErrors: 0 });
    expect(handler).not.toHaveBeenCalled();
    await buffer.close();
  });
});

describe("MollifierDrainer retries and terminal failures", () => {
  redisTest("a retryable failure is requeued with backoff and not retried before nextAttemptAt", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await buffer.accept(acceptInput("run_1"));
    const calls: number[] = [];
    const drainer = makeDrainer(buffer, {
      backoffFloorMs: 300,
      random: () => 1, // no jitter: first backoff is exactly the floor
      handler: async () => {
        calls.push(Date.now());
        if (calls.length === 1) throw connectionRefused();
      },
    });
    expect(await drainer.runOnce()).toMatchObject({ retried: 1 });
    const entry = (await buffer.getEntry("run_1"))!;
    expect(entry).toMatchObject({ status: "QUEUED", attempts: 1, lastError: { code: "Error" } });
    expect(entry.nextAttemptAt! - calls[0]!).toBeGreaterThanOrEqual(290);
    const until = Date.now() + 200;
    while (Date.now() < until) {
      await drainer.runOnce();
      await sleep(10);
    }
    expect(calls).toHaveLength(1);
    await waitFor(async () => (await drainer.runOnce()).drained === 1, 2_000);
    expect(calls).toHaveLength(2);
    expect(calls[1]!).toBeGreaterThanOrEqual(entry.nextAttemptAt! - 5);
    await buffer.close();
  });

  redisTest("retryable failures (an outage) requeue for as long as they last: never terminal, then it drains", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await buffer.accept(acceptInput("run_1"));
    const attemptsSeen: number[] = [];
    const onTerminalFailure = vi.fn(async () => {});
    const drainer = makeDrainer(buffer, {
      maxAttempts: 3,
      backoffFloorMs: 1,
      maxBackoffMs: 5,
      handler: async (e) => {
        attemptsSeen.push(e.attempts);
        if (attemptsSeen.length <= 6) throw new RetryableDrainError("Postgres unreachable");
      },
      onTerminalFailure,
    });
    await waitFor(async () => (await drainer.runOnce()).drained === 1);
    expect(attemptsSeen).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(onTerminalFailure).not.toHaveBeenCalled();
    expect(await buffer.getDepth()).toBe(0);
    await buffer.close();
  });

  redisTest("a non-retryable failure is terminal at once", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await buffer.accept(acceptInput("run_1"));
    const handler = vi.fn(async () => {
      throw new Error("Unique constraint failed");
    });
    const onTerminalFailure = vi.fn(async () => {});
    expect(await makeDrainer(buffer, { handler, onTerminalFailure }).runOnce()).toMatchObject({ failed: 1 });
    expect(handler).toHaveBeenCalledTimes(1);
    expect(onTerminalFailure).toHaveBeenCalledWith(expect.objectContaining({ runId: "run_1" }), {
      code: "Error",
      message: "Unique constraint failed",
      cause: "non-retryable",
      attempts: 1,
    });
    expect(await buffer.getEntry("run_1")).toBeNull();
    await buffer.close();
  });

  redisTest("a terminal callback that materialises the run after all gets the entry acked, not failed", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await buffer.accept(acceptInput("run_1"));
    const handler = vi.fn(async () => {
      throw new Error("Unique constraint failed");
    });
    const drainer = makeDrainer(buffer, { handler, onTerminalFailure: async () => "materialised" as const });
    expect(await drainer.runOnce()).toMatchObject({ drained: 1, failed: 0 });
    expect((await buffer.getEntry("run_1"))!.status).toBe("MATERIALISED");
    expect(await buffer.getDepth()).toBe(0);
    await buffer.close();
  });

  redisTest("a malformed payload never reaches the handler and goes terminal", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await buffer.accept(acceptInput("run_1"));
    await buffer.redis.hset(buffer.keys.key("entry", "run_1"), "payload", "{oops");
    const handler = vi.fn(async () => {});
    const onTerminalFailure = vi.fn(async (_e: TerminalEntry, _f: DrainFailure) => {});
    expect(await makeDrainer(buffer, { handler, onTerminalFailure }).runOnce()).toMatchObject({ failed: 1 });
    expect(handler).not.toHaveBeenCalled();
    expect(onTerminalFailure.mock.calls[0]![0].snapshot).toBeNull();
    expect(onTerminalFailure.mock.calls[0]![1]).toMatchObject({ cause: "malformed-payload", code: "SyntaxError" });
    expect(await buffer.getEntry("run_1")).toBeNull();
    await buffer.close();
  });

  redisTest("a terminal callback failing retryably keeps the entry; failing otherwise fails it anyway", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await buffer.accept(acceptInput("run_1"));
    let callbackCalls = 0;
    const drainer = makeDrainer(buffer, {
      backoffFloorMs: 1,
      maxBackoffMs: 2,
      handler: async () => {
        throw new Error("validation failed");
      },
      onTerminalFailure: async () => {
        callbackCalls += 1;
        if (callbackCalls === 1) throw connectionRefused();
        throw new Error("cannot write terminal row");
      },
    });
    expect(await drainer.runOnce()).toMatchObject({ retried: 1 });
    expect(await buffer.getEntry("run_1")).toMatchObject({ status: "QUEUED", attempts: 1 });
    await sleep(10);
    expect(await drainer.runOnce()).toMatchObject({ failed: 1 });
    expect(callbackCalls).toBe(2);
    expect(await buffer.getEntry("run_1")).toBeNull();
    await buffer.close();
  });

  redisTest("attempts lost to expired leases count: a run that keeps killing its drainer goes terminal", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await buffer.accept(acceptInput("run_1"));
    for (let i = 0; i < 3; i++) {
      await buffer.pop({ envId: "env_a", orgId: "org_a", leaseMs: 1 }); // a drainer that died holding it
      await sleep(3);
      await buffer.reclaimExpiredDrains();
    }
    const handler = vi.fn(async () => {});
    const onTerminalFailure = vi.fn(async () => {});
    expect(await makeDrainer(buffer, { handler, onTerminalFailure, maxAttempts: 3 }).runOnce()).toMatchObject({ failed: 1 });
    expect(handler).not.toHaveBeenCalled();
    expect(onTerminalFailure).toHaveBeenCalledWith(expect.anything(), expect.objectContaining({ code: "DrainLeaseExpired", cause: "max-attempts-exhausted", attempts: 3 }));
    await buffer.close();
  });
});

describe("MollifierDrainer exactly-once landing", () => {
  redisTest("an ack that fails after a successful replay does not replay again", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await buffer.accept(acceptInput("run_1"));
    const realAck = buffer.ack.bind(buffer);
    let ackFailures = 0;
    buffer.ack = async (runId) => {
      if (ackFailures++ === 0) throw new Error("read ECONNRESET");
      return realAck(runId);
    };
    const handler = vi.fn(async () => {});
    const drainer = makeDrainer(buffer, { handler });
    expect(await drainer.runOnce()).toMatchObject({ drained: 1 });
    expect((await buffer.getEntry("run_1"))!.status).toBe("DRAINED");
    await drainer.runOnce(); // retries the lost ack
    expect((await buffer.getEntry("run_1"))!.status).toBe("MATERIALISED");
    expect(handler).toHaveBeenCalledTimes(1);
    await buffer.close();
  });

  redisTest("a drainer that died after recording success but before the ack: the next one acks without a replay", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await buffer.accept(acceptInput("run_1"));
    const popped = await buffer.pop({ envId: "env_a", orgId: "org_a", leaseMs: 20 });
    await buffer.markDrained("run_1", popped!.leaseId); // ...and the process died here
    await sleep(30);
    const handler = vi.fn(async () => {});
    const drainer = makeDrainer(buffer, { handler });
    expect(await drainer.runOnce()).toMatchObject({ drained: 1 });
    expect(handler).not.toHaveBeenCalled();
    expect((await buffer.getEntry("run_1"))!.status).toBe("MATERIALISED");
    await buffer.close();
  });

  redisTest("a drainer killed mid-drain and a restarted one: every run lands exactly once", async ({ redis }) => {
    const N = 40;
    const seed = makeBuffer(redis);
    await Promise.all(Array.from({ length: N }, (_, i) => seed.accept(acceptInput(`run_${i}`))));

    // The run store: replays are idempotent per run id (as the engine's are), side effects counted.
    const created = new Map<string, number>();
    const replay = (runId: string) => created.set(runId, (created.get(runId) ?? 0) + 1);
    const completedByA = new Set<string>();
    const hungInA = new Set<string>();

    const bufferA = makeBuffer(redis);
    let callsA = 0;
    const drainerA = makeDrainer(bufferA, {
      concurrency: 3,
      batchSize: 5,
      leaseMs: 300,
      handler: async (e) => {
        if (++callsA % 4 === 0) {
          hungInA.add(e.runId);
          replay(e.runId); // the row was written, then the process froze before returning
          return new Promise<void>(() => {});
        }
        replay(e.runId);
        completedByA.add(e.runId);
      },
    });
    drainerA.start();
    await waitFor(() => hungInA.size === 3, 5_000); // every worker of A is stuck
    expect(await drainerA.stop({ deadlineMs: 20 })).toBe(false); // "killed"
    await bufferA.close();

    const bufferB = makeBuffer(redis);
    const replayedByB: string[] = [];
    const drainerB = makeDrainer(bufferB, {
      leaseMs: 300,
      handler: async (e) => {
        replayedByB.push(e.runId);
        replay(e.runId);
      },
    });
    drainerB.start();
    await waitFor(async () => (await bufferB.getDepth()) === 0, 10_000);
    expect(await drainerB.stop()).toBe(true);

    expect(created.size).toBe(N);
    const statuses = await Promise.all(Array.from({ length: N }, (_, i) => bufferB.getEntry(`run_${i}`)));
    expect(statuses.every((e) => e?.status === "MATERIALISED")).toBe(true);
    for (const runId of completedByA) expect(replayedByB).not.toContain(runId); // no second side effect
    for (const runId of hungInA) expect(replayedByB).toContain(runId); // replayed with the same run id
    expect(new Set(replayedByB).size).toBe(replayedByB.length);
    await bufferB.close();
    await seed.close();
  });
});

describe("MollifierDrainer fairness and concurrency", () => {
  async function fill(buffer: MollifierBuffer, layout: Array<{ orgId: string; envId: string; count: number }>) {
    for (const { orgId, envId, count } of layout) {
      for (let start = 0; start < count; start += 500) {
        await Promise.all(
          Array.from({ length: Math.min(500, count - start) }, (_, i) => buffer.accept(acceptInput(`${envId}_${start + i}`, { orgId, envId }))),
        );
      }
    }
  }

  for (const sameOrg of [false, true]) {
    redisTest(`nine light envs drain within the first 10% of a heavy env's backlog (${sameOrg ? "one org" : "ten orgs"})`, async ({ redis }) => {
      const buffer = makeBuffer(redis);
      const layout = [
        { orgId: sameOrg ? "org_0" : "org_heavy", envId: "heavy", count: 2_000 },
        ...Array.from({ length: 9 }, (_, i) => ({ orgId: sameOrg ? "org_0" : `org_${i}`, envId: `light${i}`, count: 20 })),
      ];
      await fill(buffer, layout);
      const order: string[] = [];
      const drainer = makeDrainer(buffer, { concurrency: 50, batchSize: 10, handler: async (e) => void order.push(e.envId) });
      const lightDone = () => order.filter((env) => env !== "heavy").length === 180;
      for (let tick = 0; tick < 200 && !lightDone(); tick++) await drainer.runOnce();
      expect(lightDone()).toBe(true);
      const heavyBefore = order.filter((env) => env === "heavy").length;
      expect(heavyBefore).toBeLessThanOrEqual(200); // 10 % of 2,000
      await buffer.close();
    });
  }

  redisTest("one env per org per tick, rotating within the org", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await fill(buffer, [
      { orgId: "org_many", envId: "env_1", count: 5 },
      { orgId: "org_many", envId: "env_2", count: 5 },
      { orgId: "org_many", envId: "env_3", count: 5 },
      { orgId: "org_one", envId: "env_solo", count: 5 },
    ]);
    const perTick: string[][] = [];
    let current: string[] = [];
    const drainer = makeDrainer(buffer, { batchSize: 1, handler: async (e) => void current.push(e.envId) });
    for (let i = 0; i < 3; i++) {
      current = [];
      await drainer.runOnce();
      perTick.push(current.sort());
    }
    expect(perTick).toEqual([
      ["env_1", "env_solo"],
      ["env_2", "env_solo"],
      ["env_3", "env_solo"],
    ]);
    await buffer.close();
  });

  redisTest("never more than `concurrency` entries in flight", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await fill(buffer, Array.from({ length: 4 }, (_, i) => ({ orgId: `org_${i}`, envId: `env_${i}`, count: 10 })));
    let inFlight = 0;
    let peak = 0;
    const drainer = makeDrainer(buffer, {
      concurrency: 5,
      batchSize: 10,
      handler: async () => {
        peak = Math.max(peak, ++inFlight);
        await sleep(5);
        inFlight -= 1;
      },
    });
    expect(await drainer.runOnce()).toMatchObject({ drained: 40 });
    expect(peak).toBe(5);
    expect(await buffer.getDrainingCount()).toBe(0);
    await buffer.close();
  });
});

describe("MollifierDrainer resilience", () => {
  redisTest("a pop failure for one env counts once and does not stop the others", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await buffer.accept(acceptInput("run_bad1", { envId: "env_bad", orgId: "org_bad" }));
    await buffer.accept(acceptInput("run_bad2", { envId: "env_bad", orgId: "org_bad" }));
    await buffer.accept(acceptInput("run_good", { envId: "env_good", orgId: "org_good" }));
    const realPop = buffer.pop.bind(buffer);
    buffer.pop = async (input) => {
      if (input.envId === "env_bad") throw new Error("pop exploded");
      return realPop(input);
    };
    const drainer = makeDrainer(buffer, { concurrency: 4, batchSize: 2, handler: async () => {} });
    expect(await drainer.runOnce()).toEqual({ drained: 1, retried: 0, failed: 0, popErrors: 1 });
    await buffer.close();
  });

  redisTest("a requeue failure leaves the entry leased (reclaimed later) and does not stop the batch", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await buffer.accept(acceptInput("run_1"));
    await buffer.accept(acceptInput("run_2"));
    buffer.requeue = async () => {
      throw new Error("requeue exploded");
    };
    const drainer = makeDrainer(buffer, {
      leaseMs: 20,
      handler: async (e) => {
        if (e.runId === "run_1") throw connectionRefused();
      },
    });
    expect(await drainer.runOnce()).toMatchObject({ drained: 1, retried: 1 });
    expect((await buffer.getEntry("run_1"))!.status).toBe("DRAINING");
    await sleep(30);
    expect(await buffer.reclaimExpiredDrains()).toEqual({ requeued: 1, pendingAck: 0 });
    await buffer.close();
  });

  redisTest("the loop survives a failing tick and resumes draining", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await buffer.accept(acceptInput("run_1"));
    const realListOrgs = buffer.listOrgs.bind(buffer);
    let failures = 0;
    buffer.listOrgs = async () => {
      if (failures++ < 2) throw new Error("listOrgs blip");
      return realListOrgs();
    };
    const drainer = makeDrainer(buffer, { backoffFloorMs: 5, handler: async () => {} });
    drainer.start();
    await waitFor(async () => (await buffer.getDepth()) === 0, 3_000);
    expect(await drainer.stop()).toBe(true);
    expect(failures).toBeGreaterThanOrEqual(3);
    await buffer.close();
  });

  redisTest("a hung handler holds one slot, not the drainer", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    for (let i = 0; i < 10; i++) await buffer.accept(acceptInput(`run_${i}`));
    const done: string[] = [];
    const drainer = makeDrainer(buffer, {
      concurrency: 2,
      batchSize: 3,
      handler: async (e) => {
        if (e.runId === "run_0") return new Promise<void>(() => {});
        done.push(e.runId);
      },
    });
    drainer.start();
    await waitFor(() => done.length === 9, 3_000);
    expect(await drainer.stop({ deadlineMs: 20 })).toBe(false);
    expect((await buffer.getEntry("run_0"))!.status).toBe("DRAINING");
    await buffer.close();
  });
});

describe("MollifierDrainer.start / stop", () => {
  redisTest("stop waits for in-flight handlers, and they are acked", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await buffer.accept(acceptInput("run_1"));
    const gate = deferred();
    const started = deferred();
    const drainer = makeDrainer(buffer, {
      handler: async () => {
        started.resolve();
        await gate.promise;
      },
    });
    drainer.start();
    drainer.start(); // idempotent: no second loop
    await started.promise;
    let stopped = false;
    const stopping = drainer.stop().then((finished) => {
      stopped = true;
      return finished;
    });
    await sleep(50);
    expect(stopped).toBe(false);
    gate.resolve();
    expect(await stopping).toBe(true);
    expect((await buffer.getEntry("run_1"))!.status).toBe("MATERIALISED");
    expect(drainer.isRunning).toBe(false);
    expect(await drainer.stop()).toBe(true); // idempotent
    await buffer.close();
  });

  redisTest("stop returns false at its deadline while a handler hangs, and stops popping", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await buffer.accept(acceptInput("run_1"));
    await buffer.accept(acceptInput("run_2"));
    const started = deferred();
    const handler = vi.fn(async () => {
      started.resolve();
      await new Promise(() => {});
    });
    const drainer = makeDrainer(buffer, { concurrency: 1, handler });
    drainer.start();
    await started.promise;
    const t0 = Date.now();
    expect(await drainer.stop({ deadlineMs: 50 })).toBe(false);
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(handler).toHaveBeenCalledTimes(1);
    expect((await buffer.getEntry("run_2"))!.status).toBe("QUEUED");
    await buffer.close();
  });

  redisTest("a never-started drainer stops at once", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    expect(await makeDrainer(buffer, { handler: async () => {} }).stop()).toBe(true);
    await buffer.close();
  });
});
