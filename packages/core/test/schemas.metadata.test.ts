import { describe, expect, it } from "vitest";
import {
  UpdateMetadataRequestBody,
  UpdateMetadataResponseBody,
  applyMetadataOperations,
  formatZodIssues,
  isSafeMetadataKey,
  jsonEqual,
  metadataObjectFromPacket,
  parseMetadataPath,
  type JsonObject,
  type MetadataOperation,
} from "../src/schemas/index.js";

const apply = (metadata: JsonObject, ...ops: MetadataOperation[]) => applyMetadataOperations(metadata, ops);

describe("applyMetadataOperations", () => {
  it("sets, overwrites and deletes literal keys", () => {
    const { metadata, unapplied } = apply(
      { a: 1, b: 2 },
      { type: "set", key: "a", value: { nested: true } },
      { type: "set", key: "c", value: "x" },
      { type: "delete", key: "b" },
      { type: "delete", key: "missing" },
    );
    expect(metadata).toEqual({ a: { nested: true }, c: "x" });
    expect(unapplied).toEqual([]);
  });

  it("replaces everything on update", () => {
    expect(apply({ a: 1 }, { type: "update", value: { b: 2 } }, { type: "set", key: "c", value: 3 }).metadata).toEqual({
      b: 2,
      c: 3,
    });
  });

  it("appends: missing → [v], array → push, scalar → [old, v]", () => {
    const { metadata } = apply(
      { list: [1], scalar: "s" },
      { type: "append", key: "list", value: 2 },
      { type: "append", key: "fresh", value: { x: 1 } },
      { type: "append", key: "scalar", value: "t" },
    );
    expect(metadata).toEqual({ list: [1, 2], fresh: [{ x: 1 }], scalar: ["s", "t"] });
  });

  it("removes every structurally equal element, and skips non-arrays", () => {
    const { metadata, unapplied } = apply(
      { list: [{ a: 1, b: 2 }, { b: 2, a: 1 }, { a: 2 }, 3], scalar: 1 },
      { type: "remove", key: "list", value: { a: 1, b: 2 } },
      { type: "remove", key: "scalar", value: 1 },
      { type: "remove", key: "missing", value: 1 },
    );
    expect(metadata).toEqual({ list: [{ a: 2 }, 3], scalar: 1 });
    expect(unapplied.map((op) => op.type === "remove" && op.key)).toEqual(["scalar", "missing"]);
  });

  it("increments from 0 when missing or not a number; decrement is a negative increment", () => {
    const { metadata } = apply(
      { n: 5, s: "x" },
      { type: "increment", key: "n", value: 2 },
      { type: "increment", key: "n", value: -10 },
      { type: "increment", key: "m", value: 1.5 },
      { type: "increment", key: "s", value: 1 },
    );
    expect(metadata).toEqual({ n: -3, m: 1.5, s: 1 });
  });

  it("follows JSON paths into objects and arrays", () => {
    const { metadata, unapplied } = apply(
      { progress: { steps: [{ done: false }, { done: false }], count: 1 }, "a.b": 0 },
      { type: "set", key: "$.progress.steps.1.done", value: true },
      { type: "increment", key: "$.progress.count", value: 2 },
      { type: "append", key: "$.progress.log", value: "started" },
      { type: "set", key: "$.a\\.b", value: 9 },
      { type: "delete", key: "$.progress.steps.0" },
    );
    expect(metadata).toEqual({
      progress: { steps: [{ done: true }], count: 3, log: ["started"] },
      "a.b": 9,
    });
    expect(unapplied).toEqual([]);
  });

  it("does not create missing parents on a path (as the SDK's local view does not)", () => {
    const op: MetadataOperation = { type: "set", key: "$.missing.deep", value: 1 };
    const { metadata, unapplied } = apply({}, op);
    expect(metadata).toEqual({});
    expect(unapplied).toEqual([op]);
  });

  it("refuses prototype-polluting keys and never touches Object.prototype", () => {
    const ops: MetadataOperation[] = [
      { type: "set", key: "__proto__", value: { polluted: true } },
      { type: "set", key: "$.__proto__.polluted", value: true },
      { type: "set", key: "$.constructor.prototype.polluted", value: true },
      { type: "set", key: "$.", value: 1 },
    ];
    const { metadata, unapplied } = applyMetadataOperations({}, ops);
    expect(unapplied).toHaveLength(4);
    expect(metadata).toEqual({});
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // A literal "constructor" key is harmless and allowed.
    expect(apply({}, { type: "set", key: "constructor", value: 1 }).metadata).toEqual({ constructor: 1 });
  });

  it("never mutates its input", () => {
    const input: JsonObject = { list: [1], nested: { n: 1 } };
    const snapshot = structuredClone(input);
    apply(
      input,
      { type: "append", key: "list", value: 2 },
      { type: "increment", key: "$.nested.n", value: 1 },
      { type: "delete", key: "list" },
    );
    expect(input).toEqual(snapshot);
  });

  it("parses paths and key safety", () => {
    expect(parseMetadataPath("plain")).toBeUndefined();
    expect(parseMetadataPath("$.a.b\\.c.0")).toEqual(["a", "b.c", "0"]);
    expect(parseMetadataPath("$.a..b")).toEqual([]);
    expect(isSafeMetadataKey("$.ok.path")).toBe(true);
    expect(isSafeMetadataKey("$.prototype")).toBe(false);
    expect(isSafeMetadataKey("__proto__")).toBe(false);
    expect(jsonEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] })).toBe(true);
    expect(jsonEqual({ a: 1 }, { a: 1, b: undefined as never })).toBe(false);
  });
});

describe("metadata bodies", () => {
  it("accepts the body the SDK flushes", () => {
    const body = UpdateMetadataRequestBody.parse({
      operations: [
        { type: "set", key: "status", value: "working" },
        { type: "increment", key: "count", value: 3 },
        { type: "delete", key: "tmp" },
      ],
      parentOperations: [{ type: "append", key: "children", value: "run_1" }],
      rootOperations: [],
    });
    expect(body.operations).toHaveLength(3);
  });

  it("names the field of a bad operation", () => {
    const result = UpdateMetadataRequestBody.safeParse({ operations: [{ type: "increment", key: "n", value: "1" }] });
    expect(result.success).toBe(false);
    if (!result.success) expect(formatZodIssues(result.error)).toMatch(/^operations\.0\.value: /);
    expect(UpdateMetadataRequestBody.safeParse({ operations: [{ type: "nope", key: "x" }] }).success).toBe(false);
  });

  it("returns metadata as an object, never the stored string", () => {
    expect(metadataObjectFromPacket('{"a":1}', "application/json")).toEqual({ a: 1 });
    expect(metadataObjectFromPacket('{"json":{"a":1},"meta":{}}', "application/super+json")).toEqual({ a: 1 });
    expect(metadataObjectFromPacket(null, "application/json")).toEqual({});
    expect(metadataObjectFromPacket("[1]", "application/json")).toEqual({});
    expect(UpdateMetadataResponseBody.safeParse({ metadata: '{"a":1}' }).success).toBe(false);
  });
});
