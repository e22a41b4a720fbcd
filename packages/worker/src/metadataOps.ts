import type { MetadataOperation } from "./publicApi.js";

/**
 * Run metadata operations, applied locally (so `metadata.get` sees its own writes at once) and compacted
 * before they are sent. Keys are plain top-level keys, or JSON paths starting with `$.` (`$.a.b[0]`).
 */

const FORBIDDEN_SEGMENTS = new Set(["__proto__", "constructor", "prototype"]);

type Segment = string | number;

export class MetadataKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MetadataKeyError";
  }
}

/** Splits a key into path segments, refusing prototype-polluting keys and a bare `$.`. */
export function parseKey(key: string): Segment[] {
  if (typeof key !== "string" || key.length === 0) throw new MetadataKeyError("metadata key must be a non-empty string");
  let segments: Segment[];
  if (key.startsWith("$.")) {
    const rest = key.slice(2);
    if (rest.length === 0) throw new MetadataKeyError('metadata key "$." names no field');
    segments = [];
    const re = /([^.[\]]+)|\[(\d+)\]/g;
    let match: RegExpExecArray | null;
    while ((match = re.exec(rest)) !== null) {
      if (match[1] !== undefined) segments.push(match[1]);
      else segments.push(Number(match[2]));
    }
    if (segments.length === 0) throw new MetadataKeyError(`metadata key "${key}" names no field`);
  } else {
    segments = [key];
  }
  for (const s of segments) {
    if (typeof s === "string" && FORBIDDEN_SEGMENTS.has(s)) throw new MetadataKeyError(`metadata key "${key}" is not allowed`);
  }
  return segments;
}

function cloneJson<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Walks to the parent container of the last segment, creating objects/arrays on the way. */
function parentOf(root: Record<string, unknown>, segments: Segment[]): { container: Record<string | number, unknown>; last: Segment } {
  let node: Record<string | number, unknown> = root;
  for (let i = 0; i < segments.length - 1; i++) {
    const seg = segments[i]!;
    const nextIsIndex = typeof segments[i + 1] === "number";
    let child = node[seg];
    if (typeof child !== "object" || child === null) {
      child = nextIsIndex ? [] : {};
      node[seg] = child;
    }
    node = child as Record<string | number, unknown>;
  }
  return { container: node, last: segments[segments.length - 1]! };
}

/** Applies one operation; returns a new object (the input is not modified). */
export function applyOperation(metadata: Record<string, unknown>, op: MetadataOperation): Record<string, unknown> {
  if (op.type === "update") return cloneJson(op.value) ?? {};
  const root = cloneJson(metadata);
  const { container, last } = parentOf(root, parseKey(op.key));
  const existing = container[last];
  switch (op.type) {
    case "set":
      container[last] = cloneJson(op.value);
      break;
    case "delete":
      if (Array.isArray(container) && typeof last === "number") container.splice(last, 1);
      else delete container[last];
      break;
    case "append":
      if (existing === undefined) container[last] = [cloneJson(op.value)];
      else if (Array.isArray(existing)) existing.push(cloneJson(op.value));
      else container[last] = [existing, cloneJson(op.value)];
      break;
    case "remove":
      if (Array.isArray(existing)) container[last] = existing.filter((item) => !deepEqual(item, op.value));
      break;
    case "increment": {
      const base = typeof existing === "number" ? existing : 0;
      container[last] = base + op.value;
      break;
    }
  }
  return root;
}

export function applyOperations(metadata: Record<string, unknown>, ops: MetadataOperation[]): Record<string, unknown> {
  return ops.reduce(applyOperation, metadata);
}

function keyOf(op: MetadataOperation): string | undefined {
  return op.type === "update" ? undefined : op.key;
}

function isBarrier(op: MetadataOperation): boolean {
  return op.type === "update" || op.key.startsWith("$.");
}

/**
 * Shrinks a queue of operations without changing its effect:
 * - `update` drops everything before it;
 * - `set`/`delete` of a plain key drops earlier operations on that same key;
 * - consecutive increments of a plain key (nothing on that key, and no JSON-path op, in between) are summed.
 */
export function compactOperations(ops: MetadataOperation[]): MetadataOperation[] {
  let out: MetadataOperation[] = [];
  for (const op of ops) {
    if (op.type === "update") {
      out = [op];
      continue;
    }
    if (op.key.startsWith("$.")) {
      out.push(op);
      continue;
    }
    if (op.type === "set" || op.type === "delete") {
      out = out.filter((prev) => keyOf(prev) !== op.key);
      out.push(op);
      continue;
    }
    if (op.type === "increment") {
      let merged = false;
      for (let i = out.length - 1; i >= 0; i--) {
        const prev = out[i]!;
        if (prev.type === "update" || isBarrier(prev)) break;
        if (prev.key !== op.key) continue;
        if (prev.type === "increment") {
          out[i] = { type: "increment", key: op.key, value: prev.value + op.value };
          merged = true;
        }
        break;
      }
      if (!merged) out.push(op);
      continue;
    }
    out.push(op);
  }
  return out;
}

/** Checks the value is a plain object (for `metadata.replace`). */
export function assertRecord(value: unknown): Record<string, unknown> {
  if (!isPlainObject(value)) throw new MetadataKeyError("metadata must be a plain object");
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_SEGMENTS.has(key)) throw new MetadataKeyError(`metadata key "${key}" is not allowed`);
  }
  return value;
}
