import { describe, expect, it, vi } from "vitest";
import { applyOperation, applyOperations, compactOperations, MetadataKeyError, parseKey } from "../src/metadataOps.js";
import { MetadataStore } from "../src/metadataStore.js";
import type { MetadataOperation } from "../src/publicApi.js";

describe("metadata operations", () => {
  it("applies set, delete, append, remove and increment like the server", () => {
    let m: Record<string, unknown> = {};
    m = applyOperation(m, { type: "set", key: "status", value: "running" });
    m = applyOperation(m, { type: "append", key: "log", value: "a" });
    m = applyOperation(m, { type: "append", key: "status", value: "b" }); // scalar becomes [old, new]
    m = applyOperation(m, { type: "increment", key: "n", value: 2 });
    m = applyOperation(m, { type: "increment", key: "n", value: -0.5 });
    m = applyOperation(m, { type: "set", key: "$.progress.pct", value: 50 });
    m = applyOperation(m, { type: "append", key: "items", value: { id: 1 } });
    m = applyOperation(m, { type: "append", key: "items", value: { id: 2 } });
    m = applyOperation(m, { type: "remove", key: "items", value: { id: 1 } });
    expect(m).toEqual({ status: ["running", "b"], log: ["a"], n: 1.5, progress: { pct: 50 }, items: [{ id: 2 }] });
    expect(applyOperation(m, { type: "delete", key: "log" })).not.toHaveProperty("log");
    expect(applyOperation(m, { type: "update", value: { only: true } })).toEqual({ only: true });
    expect(m).toHaveProperty("log"); // inputs are not mutated
  });

  it("refuses prototype keys and a bare $.", () => {
    expect(() => parseKey("__proto__")).toThrow(MetadataKeyError);
    expect(() => parseKey("$.a.constructor")).toThrow(MetadataKeyError);
    expect(() => parseKey("$.")).toThrow(MetadataKeyError);
    expect(parseKey("$.a[2].b")).toEqual(["a", 2, "b"]);
  });

  it("compacts a queue without changing its effect", () => {
    const ops: MetadataOperation[] = [
      { type: "increment", key: "done", value: 1 },
      { type: "set", key: "status", value: "a" },
      { type: "increment", key: "done", value: 1 },
      { type: "set", key: "status", value: "b" },
      { type: "increment", key: "done", value: 3 },
      { type: "append", key: "log", value: 1 },
      { type: "append", key: "log", value: 2 },
    ];
    const compacted = compactOperations(ops);
    expect(compacted).toEqual([
      { type: "increment", key: "done", value: 5 },
      { type: "set", key: "status", value: "b" },
      { type: "append", key: "log", value: 1 },
      { type: "append", key: "log", value: 2 },
    ]);
    const base = { done: 10, status: "x", log: [0] };
    expect(applyOperations(base, compacted)).toEqual(applyOperations(base, ops));
  });

  it("keeps order-sensitive sequences intact", () => {
    const ops: MetadataOperation[] = [
      { type: "increment", key: "n", value: 1 },
      { type: "set", key: "$.n", value: 100 }, // a JSON path may touch n: no merging across it
      { type: "increment", key: "n", value: 1 },
      { type: "update", value: { fresh: 1 } },
      { type: "increment", key: "fresh", value: 1 },
    ];
    const compacted = compactOperations(ops);
    expect(compacted).toEqual([
      { type: "update", value: { fresh: 1 } },
      { type: "increment", key: "fresh", value: 1 },
    ]);
    const before: MetadataOperation[] = ops.slice(0, 3);
    expect(compactOperations(before)).toHaveLength(3);
    expect(applyOperations({}, compactOperations(before))).toEqual(applyOperations({}, before));
  });
});

describe("MetadataStore", () => {
  it("applies writes locally at once and sends them in one compacted batch", async () => {
    const flushes: MetadataOperation[][] = [];
    const store = new MetadataStore({ step: 0 }, async (ops) => {
      flushes.push(ops);
      return applyOperations({ step: 0, server: true }, ops);
    });
    store.enqueue({ type: "increment", key: "step", value: 1 });
    store.enqueue({ type: "increment", key: "step", value: 1 });
    store.enqueue({ type: "set", key: "phase", value: "load" });
    expect(store.get("step")).toBe(2);
    expect(flushes).toHaveLength(0);
    await store.flush();
    expect(flushes).toEqual([
      [
        { type: "increment", key: "step", value: 2 },
        { type: "set", key: "phase", value: "load" },
      ],
    ]);
    expect(store.current()).toEqual({ step: 2, phase: "load", server: true }); // the server's view wins
    await store.flush(); // nothing queued: no call
    expect(flushes).toHaveLength(1);
  });

  it("re-applies writes made while a flush is on the wire, and re-queues a failed flush in order", async () => {
    let release!: () => void;
    let fail = false;
    const sent: MetadataOperation[][] = [];
    const store = new MetadataStore({}, async (ops) => {
      sent.push(ops);
      await new Promise<void>((r) => (release = r));
      if (fail) throw new Error("503");
      return applyOperations({}, ops);
    });
    store.enqueue({ type: "append", key: "log", value: 1 });
    const first = store.flush();
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    store.enqueue({ type: "append", key: "log", value: 2 });
    release();
    await first;
    expect(store.current()).toEqual({ log: [1, 2] });
    expect(store.pendingOperations).toEqual([{ type: "append", key: "log", value: 2 }]);

    fail = true;
    const second = store.flush();
    await vi.waitFor(() => expect(sent).toHaveLength(2));
    store.enqueue({ type: "append", key: "log", value: 3 });
    release();
    await expect(second).rejects.toThrow("503");
    expect(store.pendingOperations).toEqual([
      { type: "append", key: "log", value: 2 },
      { type: "append", key: "log", value: 3 },
    ]);
    fail = false;
    const third = store.close();
    await vi.waitFor(() => expect(sent).toHaveLength(3));
    release();
    await third;
    expect(sent[2]).toEqual([
      { type: "append", key: "log", value: 2 },
      { type: "append", key: "log", value: 3 },
    ]);
    expect(store.pendingOperations).toEqual([]);
    expect(store.current()).toEqual({ log: [2, 3] }); // the (fake) server saw only the re-sent operations
    expect(() => store.enqueue({ type: "set", key: "late", value: 1 })).toThrow("attempt has finished");
  });

  it("flushes on its timer", async () => {
    vi.useFakeTimers();
    try {
      const flush = vi.fn(async (ops: MetadataOperation[]) => applyOperations({}, ops));
      const store = new MetadataStore({}, flush);
      store.startTimer(1000);
      store.enqueue({ type: "set", key: "a", value: 1 });
      await vi.advanceTimersByTimeAsync(999);
      expect(flush).not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(1);
      expect(flush).toHaveBeenCalledTimes(1);
      await vi.advanceTimersByTimeAsync(5000); // empty queue: no more calls
      expect(flush).toHaveBeenCalledTimes(1);
      await store.close();
    } finally {
      vi.useRealTimers();
    }
  });
});
