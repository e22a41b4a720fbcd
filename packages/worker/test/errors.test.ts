import { describe, expect, it } from "vitest";
import { AbortTaskRunError, ERROR_LIMITS, serializeError, shouldSkipRetrying, TaskRunError } from "../src/errors.js";
import { deserializePacket, PacketDecodeError, serializePacket } from "../src/packets.js";
import { WorkerTaskRunError } from "../src/protocol.js";

class PaymentDeclined extends Error {
  constructor() {
    super("card declined");
    this.name = "PaymentDeclined";
  }
}

describe("serializeError", () => {
  it("keeps name, message and stack of built-in and subclassed errors", () => {
    const e = serializeError(new TypeError("bad input"));
    expect(e).toMatchObject({ type: "BUILT_IN_ERROR", name: "TypeError", message: "bad input" });
    expect(e.stackTrace).toContain("bad input");
    expect(serializeError(new PaymentDeclined())).toMatchObject({ type: "BUILT_IN_ERROR", name: "PaymentDeclined" });
    expect(WorkerTaskRunError.safeParse(e).success).toBe(true);
  });

  it("maps thrown strings to STRING_ERROR and other values to CUSTOM_ERROR with their JSON", () => {
    expect(serializeError("boom")).toEqual({ type: "STRING_ERROR", message: "boom", raw: "boom" });
    expect(serializeError({ code: 42 })).toEqual({ type: "CUSTOM_ERROR", message: '{"code":42}', raw: '{"code":42}' });
    expect(serializeError(null)).toMatchObject({ type: "CUSTOM_ERROR", message: "null" });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(serializeError(cyclic)).toMatchObject({ type: "CUSTOM_ERROR", message: "[object Object]" });
    expect(serializeError(10n)).toMatchObject({ type: "CUSTOM_ERROR", message: "10" });
  });

  it("truncates oversized messages and stacks and never sets an INTERNAL code for user errors", () => {
    const big = new Error("x".repeat(100_000));
    big.name = "N".repeat(5000);
    const e = serializeError(big);
    expect(e.message.length).toBe(ERROR_LIMITS.message);
    expect(e.name!.length).toBe(ERROR_LIMITS.name);
    expect(e.stackTrace!.length).toBeLessThanOrEqual(ERROR_LIMITS.stackTrace);
    const coded = Object.assign(new Error("x"), { code: "TASK_RUN_CANCELLED" });
    expect(serializeError(coded).code).toBeUndefined();
  });

  it("skips retrying only for AbortTaskRunError", () => {
    expect(shouldSkipRetrying(new AbortTaskRunError("stop"))).toBe(true);
    expect(serializeError(new AbortTaskRunError("stop"))).toMatchObject({ name: "AbortTaskRunError", message: "stop" });
    expect(shouldSkipRetrying(new Error("again"))).toBe(false);
    expect(shouldSkipRetrying("string")).toBe(false);
  });

  it("rebuilds a child's serialized error as a TaskRunError", () => {
    const rebuilt = new TaskRunError({ type: "INTERNAL_ERROR", code: "MAX_DURATION_EXCEEDED", message: "too slow" });
    expect(rebuilt).toBeInstanceOf(Error);
    expect(rebuilt).toMatchObject({ name: "InternalError", code: "MAX_DURATION_EXCEEDED", message: "too slow" });
    expect(new TaskRunError(serializeError(new RangeError("r"))).name).toBe("RangeError");
  });
});

describe("packets", () => {
  it("round-trips rich values through SuperJSON", () => {
    const value = { when: new Date(0), tags: new Set(["a"]), n: 10n, nested: [1, "two"] };
    const packet = serializePacket(value);
    expect(packet.dataType).toBe("application/super+json");
    expect(deserializePacket(packet.data, packet.dataType)).toEqual(value);
    expect(serializePacket(undefined)).toEqual({ dataType: "application/json" });
  });

  it("reads JSON, text and unknown types, and refuses offloaded packets", () => {
    expect(deserializePacket('{"a":1}', "application/json")).toEqual({ a: 1 });
    expect(deserializePacket("", "application/json")).toBeUndefined();
    expect(deserializePacket("hello", "text/plain")).toBe("hello");
    expect(deserializePacket("[1]", "application/x-custom")).toEqual([1]);
    expect(deserializePacket("nope", "application/x-custom")).toBe("nope");
    expect(deserializePacket(undefined, "application/json")).toBeUndefined();
    expect(() => deserializePacket("{bad", "application/json")).toThrow(PacketDecodeError);
    expect(() => deserializePacket("packets/x.json", "application/store")).toThrow(PacketDecodeError);
  });
});
