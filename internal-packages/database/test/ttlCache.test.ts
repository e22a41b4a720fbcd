import { describe, expect, it } from "vitest";
import { BoundedTtlCache } from "../src/resolver/index.js";

function clock() {
  let now = 0;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

describe("BoundedTtlCache", () => {
  it("defaults to a 30 s TTL and 10,000 entries", () => {
    const cache = new BoundedTtlCache<string>();
    expect(cache.ttlMs).toBe(30_000);
    expect(cache.maxEntries).toBe(10_000);
  });

  it("tells a cached null (confirmed absence) from a miss", () => {
    const cache = new BoundedTtlCache<string | null>();
    cache.set("absent", null);
    expect(cache.get("absent")).toBeNull();
    expect(cache.get("never-set")).toBeUndefined();
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1 });
  });

  it("serves an entry strictly before its TTL ends; a zero TTL is never served", () => {
    const c = clock();
    const cache = new BoundedTtlCache<string>({ ttlMs: 1_000, now: c.now });
    cache.set("k", "v");
    c.advance(999);
    expect(cache.get("k")).toBe("v");
    c.advance(1);
    expect(cache.get("k")).toBeUndefined();
    expect(cache.size).toBe(0);

    const zero = new BoundedTtlCache<string>({ ttlMs: 0, now: c.now });
    zero.set("k", "v");
    expect(zero.get("k")).toBeUndefined();
  });

  it("never holds more than maxEntries, evicting the least recently read", () => {
    const cache = new BoundedTtlCache<number>({ maxEntries: 3 });
    for (const key of ["a", "b", "c"]) cache.set(key, 1);
    cache.get("a");
    cache.set("d", 1);
    expect(cache.get("b")).toBeUndefined();
    expect(["a", "c", "d"].map((k) => cache.get(k))).toEqual([1, 1, 1]);
    for (let i = 0; i < 100; i++) cache.set(`x${i}`, i);
    expect(cache.size).toBe(3);
    expect(cache.stats().evictions).toBe(101); // "b", then one per insert beyond the bound
  });

  it("overwriting a key at capacity evicts nothing", () => {
    const cache = new BoundedTtlCache<number>({ maxEntries: 2 });
    cache.set("a", 1);
    cache.set("b", 1);
    cache.set("a", 2);
    expect([cache.get("a"), cache.get("b")]).toEqual([2, 1]);
  });

  it("invalidateTag drops exactly the entries stored with that tag; a re-set is readable again", () => {
    const cache = new BoundedTtlCache<string | null>();
    cache.set("env:1", "one", ["org:A", "env:1"]);
    cache.set("key:x", "one", ["org:A", "env:1"]);
    cache.set("env:2", "two", ["org:A", "env:2"]);
    cache.set("env:3", "three", ["org:B", "env:3"]);
    cache.set("env:404", null, ["env:404"]);

    expect(cache.invalidateTag("env:1")).toBe(2);
    expect(cache.get("env:1")).toBeUndefined();
    expect(cache.get("env:2")).toBe("two");

    expect(cache.invalidateTag("org:A")).toBe(1);
    expect(cache.get("env:2")).toBeUndefined();
    expect(cache.get("env:3")).toBe("three");
    expect(cache.get("env:404")).toBeNull();

    cache.set("env:2", "two again", ["org:A"]);
    expect(cache.get("env:2")).toBe("two again");
    expect(cache.invalidateTag("org:unknown")).toBe(0);
  });

  it("an evicted entry leaves its tags, so a later invalidation does not drop a newer entry", () => {
    const cache = new BoundedTtlCache<string>({ maxEntries: 1 });
    cache.set("a", "1", ["t"]);
    cache.set("b", "2", ["u"]);
    expect(cache.invalidateTag("t")).toBe(0);
    expect(cache.get("b")).toBe("2");
  });

  it("rejects a negative TTL or a bound below one", () => {
    expect(() => new BoundedTtlCache({ ttlMs: -1 })).toThrow(RangeError);
    expect(() => new BoundedTtlCache({ maxEntries: 0 })).toThrow(RangeError);
  });
});
