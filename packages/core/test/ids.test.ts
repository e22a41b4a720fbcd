import { describe, expect, it, vi } from "vitest";
import {
  classifyResidency,
  deriveFriendlyId,
  generateCuid,
  generateFriendlyId,
  generateKsuid,
  isCuid,
  isKsuid,
  ksuidTimestamp,
  registerIdShape,
  setUnclassifiedIdListener,
  fromFriendlyId,
} from "../src/ids/index.js";

describe("ids", () => {
  it("mints 25-char cuids and 27-char ksuids that never collide in 10k draws", () => {
    const cuids = new Set(Array.from({ length: 10_000 }, generateCuid));
    const ksuids = new Set(Array.from({ length: 10_000 }, () => generateKsuid()));
    expect(cuids.size).toBe(10_000);
    expect(ksuids.size).toBe(10_000);
    for (const id of cuids) expect(id).toHaveLength(25);
    for (const id of ksuids) expect(id).toHaveLength(27);
    expect([...cuids].every(isCuid)).toBe(true);
    expect([...ksuids].every(isKsuid)).toBe(true);
  });

  it("encodes the creation second in a ksuid", () => {
    const at = new Date("2026-11-23T10:00:00Z");
    expect(ksuidTimestamp(generateKsuid(at)).toISOString()).toBe(at.toISOString());
  });

  it("classifies residency by shape, with or without a friendly prefix", () => {
    expect(classifyResidency(generateCuid())).toBe("LEGACY");
    expect(classifyResidency(generateKsuid())).toBe("NEW");
    expect(classifyResidency(generateFriendlyId("run", "LEGACY"))).toBe("LEGACY");
    expect(classifyResidency(generateFriendlyId("run", "NEW"))).toBe("NEW");
    expect(classifyResidency(generateFriendlyId("batch", "NEW"))).toBe("NEW");
    expect(fromFriendlyId("run_abc", "run")).toBe("abc");
  });

  it("treats an unknown shape as LEGACY with a warning, never a throw", () => {
    const warn = vi.fn();
    setUnclassifiedIdListener(warn);
    expect(classifyResidency("run_not-an-id")).toBe("LEGACY");
    expect(classifyResidency("")).toBe("LEGACY");
    expect(warn).toHaveBeenCalledTimes(2);
  });

  it("can learn a new id shape", () => {
    const unregister = registerIdShape({ name: "base32hex26", residency: "NEW", matches: (id) => /^[0-9a-v]{26}$/.test(id) });
    expect(classifyResidency("0123456789abcdefghijklmnop")).toBe("NEW");
    unregister();
  });
});

describe("deriveFriendlyId", () => {
  it("is deterministic, keeps the seed's family and timestamp, and differs per salt", () => {
    for (const kind of ["LEGACY", "NEW"] as const) {
      const batch = generateFriendlyId("batch", kind);
      const a = deriveFriendlyId("run", batch, "item:0");
      expect(deriveFriendlyId("run", batch, "item:0")).toBe(a);
      expect(deriveFriendlyId("run", batch, "item:1")).not.toBe(a);
      expect(a.startsWith("run_")).toBe(true);
      expect(classifyResidency(a)).toBe(kind === "NEW" ? "NEW" : "LEGACY");
      const bare = fromFriendlyId(a, "run");
      if (kind === "NEW") {
        expect(isKsuid(bare)).toBe(true);
        expect(ksuidTimestamp(bare).getTime()).toBe(ksuidTimestamp(fromFriendlyId(batch, "batch")).getTime());
      } else {
        expect(isCuid(bare)).toBe(true);
        expect(bare.slice(0, 9)).toBe(fromFriendlyId(batch, "batch").slice(0, 9));
      }
    }
    expect(() => deriveFriendlyId("run", "batch_not-an-id", "x")).toThrow(/unknown id shape/);
  });
});
