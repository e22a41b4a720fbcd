import { BackgroundLoop } from "@runplane/core";
import { describe, expect, it } from "vitest";
import { BackgroundWorkerRegistry, type BackgroundWorker } from "~/services/backgroundWorkers.server";
import { createLogger, type LogLevel } from "~/services/logger.server";

function quietLogger() {
  const lines: { level: LogLevel; line: string }[] = [];
  return { logger: createLogger({ level: "debug", sink: (level, line) => lines.push({ level, line }) }), lines };
}

function countingWorker(name: string, stopDelayMs = 0) {
  const calls = { start: 0, stop: 0, stoppedAt: 0 };
  const worker: BackgroundWorker = {
    name,
    start: () => void calls.start++,
    stop: async () => {
      calls.stop++;
      await new Promise((r) => setTimeout(r, stopDelayMs));
      calls.stoppedAt = Date.now();
      return true;
    },
  };
  return { worker, calls };
}

describe("BackgroundWorkerRegistry", () => {
  it("starts each enabled worker once, however often startAll is called", async () => {
    const registry = new BackgroundWorkerRegistry(quietLogger().logger);
    const a = countingWorker("a");
    const b = countingWorker("b");
    registry.register(a.worker);
    registry.register(b.worker, { enabled: false });
    await Promise.all([registry.startAll(), registry.startAll()]);
    await registry.startAll();
    expect(a.calls.start).toBe(1);
    expect(b.calls.start).toBe(0);
    expect(registry.list()).toEqual([
      { name: "a", state: "running" },
      { name: "b", state: "disabled" },
    ]);
  });

  it("refuses a second worker with the same name", () => {
    const registry = new BackgroundWorkerRegistry(quietLogger().logger);
    registry.register(countingWorker("drainer").worker);
    expect(() => registry.register(countingWorker("drainer").worker)).toThrow(/already registered/);
  });

  it("starts a worker registered after boot at once", async () => {
    const registry = new BackgroundWorkerRegistry(quietLogger().logger);
    await registry.startAll();
    const late = countingWorker("late");
    registry.register(late.worker);
    await new Promise((r) => setImmediate(r));
    expect(late.calls.start).toBe(1);
    await registry.stopAll(1_000);
    expect(late.calls.stop).toBe(1);
  });

  it("stopAll waits for every worker to finish stopping", async () => {
    const registry = new BackgroundWorkerRegistry(quietLogger().logger);
    const slow = countingWorker("slow", 150);
    const fast = countingWorker("fast", 0);
    registry.register(slow.worker);
    registry.register(fast.worker);
    await registry.startAll();
    const before = Date.now();
    const reports = await registry.stopAll(5_000);
    expect(Date.now() - before).toBeGreaterThanOrEqual(140);
    expect(slow.calls.stoppedAt).toBeGreaterThan(0);
    expect(reports).toEqual([
      { name: "slow", stopped: true },
      { name: "fast", stopped: true },
    ]);
    // A second call returns the same result and stops nothing again.
    await registry.stopAll(5_000);
    expect(slow.calls.stop).toBe(1);
    expect(() => registry.register(countingWorker("after").worker)).toThrow(/stopping/);
  });

  it("does not stop workers that were never started", async () => {
    const registry = new BackgroundWorkerRegistry(quietLogger().logger);
    const idle = countingWorker("idle");
    registry.register(idle.worker);
    expect(await registry.stopAll(100)).toEqual([]);
    expect(idle.calls.stop).toBe(0);
  });

  it("reports a worker that misses the deadline, without hanging", async () => {
    const { logger, lines } = quietLogger();
    const registry = new BackgroundWorkerRegistry(logger);
    registry.register({ name: "stuck", start() {}, stop: () => new Promise<boolean>(() => {}) });
    await registry.startAll();
    const before = Date.now();
    const reports = await registry.stopAll(50);
    expect(Date.now() - before).toBeLessThan(3_000);
    expect(reports).toEqual([{ name: "stuck", stopped: false }]);
    expect(lines.some((l) => l.level === "warn" && l.line.includes("stuck"))).toBe(true);
  });

  it("keeps going when one worker fails to start or stop", async () => {
    const registry = new BackgroundWorkerRegistry(quietLogger().logger);
    const ok = countingWorker("ok");
    registry.register({
      name: "bad-start",
      start: () => {
        throw new Error("boom");
      },
      stop: () => true,
    });
    registry.register({ name: "bad-stop", start() {}, stop: () => Promise.reject(new Error("nope")) });
    registry.register(ok.worker);
    await registry.startAll();
    expect(registry.list().find((w) => w.name === "bad-start")?.state).toBe("failed");
    const reports = await registry.stopAll(1_000);
    expect(reports).toContainEqual({ name: "bad-stop", stopped: false, error: "nope" });
    expect(reports).toContainEqual({ name: "ok", stopped: true });
    expect(ok.calls.stop).toBe(1);
  });

  it("runs a BackgroundLoop from @runplane/core and waits for its in-flight tick", async () => {
    const registry = new BackgroundWorkerRegistry(quietLogger().logger);
    let ticks = 0;
    let inFlight = false;
    const loop = new BackgroundLoop({
      name: "ticker",
      intervalMs: 5,
      tick: async () => {
        inFlight = true;
        ticks++;
        await new Promise((r) => setTimeout(r, 30));
        inFlight = false;
      },
    });
    registry.register(loop);
    await registry.startAll();
    await registry.startAll();
    // Stop while a tick is in flight: stopAll must wait for it.
    await expect.poll(() => inFlight, { timeout: 5_000, interval: 1 }).toBe(true);
    expect(await registry.stopAll(2_000)).toEqual([{ name: "ticker", stopped: true }]);
    expect(inFlight).toBe(false);
    expect(loop.isRunning).toBe(false);
    const after = ticks;
    await new Promise((r) => setTimeout(r, 40));
    expect(ticks).toBe(after);
    expect(ticks).toBeGreaterThanOrEqual(1);
  });
});
