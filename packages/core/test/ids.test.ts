import { describe, expect, it, vi } from "vitest";
import {
  classifyResidency,
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
