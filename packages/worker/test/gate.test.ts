import { describe, expect, it } from "vitest";
import { ConcurrencyGate } from "../src/gate.js";

describe("ConcurrencyGate", () => {
  it("never hands out more than the limit and serves waiters in order", async () => {
    const gate = new ConcurrencyGate(2);
    expect(gate.tryAcquire()).toBe(true);
    expect(gate.tryAcquire()).toBe(true);
    expect(gate.tryAcquire()).toBe(false);
    const order: string[] = [];
    const a = gate.acquire().then(() => order.push("a"));
    const b = gate.acquire().then(() => order.push("b"));
    gate.release();
    await a;
    expect(gate.active).toBe(2);
    gate.release();
    await b;
    expect(order).toEqual(["a", "b"]);
    expect(gate.active).toBe(2);
  });

  it("lets resuming runs (priority) go before new work and reserves slots for them", async () => {
    const gate = new ConcurrencyGate(1);
    gate.forceAcquire();
    const order: string[] = [];
    const normal = gate.acquire().then(() => order.push("new"));
    const resumed = gate.acquire({ priority: true }).then(() => order.push("resumed"));
    expect(gate.available).toBe(0);
    gate.release();
    await resumed;
    expect(order).toEqual(["resumed"]);
    gate.release();
    await normal;
    expect(order).toEqual(["resumed", "new"]);
  });

  it("waitForAvailable peeks without taking a slot, and aborts cleanly", async () => {
    const gate = new ConcurrencyGate(1);
    gate.forceAcquire();
    let ready = false;
    const peek = gate.waitForAvailable().then(() => (ready = true));
    await Promise.resolve();
    expect(ready).toBe(false);
    gate.release();
    await peek;
    expect(gate.active).toBe(0);
    expect(gate.available).toBe(1);

    gate.forceAcquire();
    const controller = new AbortController();
    const aborted = gate.acquire({ signal: controller.signal });
    controller.abort(new Error("stop"));
    await expect(aborted).rejects.toThrow("stop");
    gate.release();
    expect(gate.active).toBe(0);
    expect(() => gate.release()).toThrow("without a matching acquire");
  });

  it("forceAcquire may exceed the limit (runs already handed over)", () => {
    const gate = new ConcurrencyGate(1);
    gate.forceAcquire();
    gate.forceAcquire();
    expect(gate.active).toBe(2);
    expect(gate.available).toBe(0);
    expect(() => new ConcurrencyGate(0)).toThrow(RangeError);
  });
});
