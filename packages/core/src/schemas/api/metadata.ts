/**
 * Run metadata: PUT and GET /api/v1/runs/{id}/metadata.
 *
 * The SDK queues changes as operations, merges runs of the same kind (increments summed, the last
 * of consecutive sets kept) and flushes every second; the final flush rides in the attempt
 * completion as `flushedMetadata`. `decrement(n)` is sent as `increment(-n)`; `del` as `delete`.
 *
 * Keys are literal top-level keys, or JSON paths when they start with `$.`: segments split on
 * `.`, `\.` escapes a literal dot, and a segment of digits indexes an array.
 */
import { z } from "zod";
import { JsonObjectSchema, JsonValueSchema, type JsonObject, type JsonValue } from "./common.js";

export const MAX_METADATA_BODY_BYTES = 2 * 1024 * 1024;
export const MAX_STORED_METADATA_BYTES = 256 * 1024;

const OperationKey = z.string();

export const MetadataUpdateOperation = z.object({ type: z.literal("update"), value: JsonObjectSchema });
export const MetadataSetOperation = z.object({ type: z.literal("set"), key: OperationKey, value: JsonValueSchema });
export const MetadataDeleteOperation = z.object({ type: z.literal("delete"), key: OperationKey });
export const MetadataAppendOperation = z.object({ type: z.literal("append"), key: OperationKey, value: JsonValueSchema });
export const MetadataRemoveOperation = z.object({ type: z.literal("remove"), key: OperationKey, value: JsonValueSchema });
export const MetadataIncrementOperation = z.object({
  type: z.literal("increment"),
  key: OperationKey,
  value: z.number().finite(),
});

export const MetadataOperation = z.discriminatedUnion("type", [
  MetadataUpdateOperation,
  MetadataSetOperation,
  MetadataDeleteOperation,
  MetadataAppendOperation,
  MetadataRemoveOperation,
  MetadataIncrementOperation,
]);
export type MetadataOperation = z.infer<typeof MetadataOperation>;

/**
 * The PUT body, and the content of the completion's `flushedMetadata` packet. With `operations`,
 * they are applied to the stored metadata; with only `metadata`, it replaces the stored value.
 * `parentOperations` / `rootOperations` go to the parent and root run (the run itself when it is
 * the root).
 */
export const UpdateMetadataRequestBody = z.object({
  metadata: JsonObjectSchema.optional(),
  operations: z.array(MetadataOperation).optional(),
  parentOperations: z.array(MetadataOperation).optional(),
  rootOperations: z.array(MetadataOperation).optional(),
});
export type UpdateMetadataRequestBody = z.infer<typeof UpdateMetadataRequestBody>;

/** PUT and GET response. `metadata` is required and must be an object (never the raw string). */
export const UpdateMetadataResponseBody = z.object({ metadata: JsonObjectSchema });
export type UpdateMetadataResponseBody = z.infer<typeof UpdateMetadataResponseBody>;

/** Stored metadata string → the object the API returns; `{}` when empty or not an object. */
export function metadataObjectFromPacket(data: string | null | undefined, dataType: string): JsonObject {
  if (!data) return {};
  try {
    const parsed: unknown = JSON.parse(data);
    const value = dataType === "application/super+json" ? (parsed as { json?: unknown })?.json : parsed;
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as JsonObject) : {};
  } catch {
    return {};
  }
}

// ---------------------------------------------------------------------------------------------
// Applying operations
// ---------------------------------------------------------------------------------------------

const FORBIDDEN_SEGMENTS = new Set(["__proto__", "constructor", "prototype"]);

/** Splits `$.a.b\.c.0` into `["a", "b.c", "0"]`; `undefined` for a literal key or an empty path. */
export function parseMetadataPath(key: string): string[] | undefined {
  if (!key.startsWith("$.")) return undefined;
  const segments: string[] = [];
  let current = "";
  for (let i = 2; i < key.length; i++) {
    const char = key[i];
    if (char === "\\" && i + 1 < key.length) {
      current += key[++i];
    } else if (char === ".") {
      segments.push(current);
      current = "";
    } else {
      current += char;
    }
  }
  segments.push(current);
  return segments.every((segment) => segment.length > 0) ? segments : [];
}

/**
 * Whether an operation's key can be applied: a literal key other than `__proto__`, or a JSON path
 * that names something below the root and has no `__proto__` / `constructor` / `prototype`
 * segment.
 */
export function isSafeMetadataKey(key: string): boolean {
  const path = parseMetadataPath(key);
  if (path === undefined) return key !== "__proto__";
  return path.length > 0 && path.every((segment) => !FORBIDDEN_SEGMENTS.has(segment));
}

type Container = JsonObject | JsonValue[];

function isContainer(value: unknown): value is Container {
  return value !== null && typeof value === "object";
}

function arrayIndex(segment: string, array: JsonValue[], allowEnd: boolean): number | undefined {
  if (!/^\d+$/.test(segment)) return undefined;
  const index = Number(segment);
  return index < array.length || (allowEnd && index === array.length) ? index : undefined;
}

/** Where a key points: its parent container and the last segment. `undefined` if the parent is missing. */
function locate(root: JsonObject, key: string): { parent: Container; last: string } | undefined {
  const path = parseMetadataPath(key) ?? [key];
  let node: unknown = root;
  for (const segment of path.slice(0, -1)) {
    if (Array.isArray(node)) {
      const index = arrayIndex(segment, node, false);
      node = index === undefined ? undefined : node[index];
    } else if (isContainer(node)) {
      node = Object.prototype.hasOwnProperty.call(node, segment) ? (node as JsonObject)[segment] : undefined;
    } else {
      return undefined;
    }
  }
  return isContainer(node) ? { parent: node, last: path[path.length - 1] } : undefined;
}

function read(target: { parent: Container; last: string }): JsonValue | undefined {
  const { parent, last } = target;
  if (Array.isArray(parent)) {
    const index = arrayIndex(last, parent, false);
    return index === undefined ? undefined : parent[index];
  }
  return Object.prototype.hasOwnProperty.call(parent, last) ? parent[last] : undefined;
}

function write(target: { parent: Container; last: string }, value: JsonValue): boolean {
  const { parent, last } = target;
  if (Array.isArray(parent)) {
    const index = arrayIndex(last, parent, true);
    if (index === undefined) return false;
    parent[index] = value;
    return true;
  }
  // defineProperty, not assignment: never reaches a prototype setter.
  Object.defineProperty(parent, last, { value, writable: true, enumerable: true, configurable: true });
  return true;
}

function remove(target: { parent: Container; last: string }): void {
  const { parent, last } = target;
  if (Array.isArray(parent)) {
    const index = arrayIndex(last, parent, false);
    if (index !== undefined) parent.splice(index, 1);
    return;
  }
  delete parent[last];
}

/** Structural equality of JSON values (object key order ignored). */
export function jsonEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  }
  const ao = a as JsonObject;
  const bo = b as JsonObject;
  const keys = Object.keys(ao);
  if (keys.length !== Object.keys(bo).length) return false;
  return keys.every((key) => Object.prototype.hasOwnProperty.call(bo, key) && jsonEqual(ao[key], bo[key]));
}

export interface ApplyMetadataResult {
  metadata: JsonObject;
  /** Operations that changed nothing: unsafe key, missing parent, `remove` on a non-array, … */
  unapplied: MetadataOperation[];
}

/**
 * Applies operations in order to a copy of `metadata` (the input is never mutated).
 *
 * - `update` replaces the whole object.
 * - `set` writes the key; a JSON path needs its parent to exist (nothing is created on the way,
 *   matching what the SDK shows locally).
 * - `delete` removes the key or path element.
 * - `append` makes a missing value `[value]`, pushes onto an array, and turns a scalar into
 *   `[old, value]`.
 * - `remove` drops every element structurally equal to `value`; skipped unless the target is an array.
 * - `increment` adds `value`, counting a missing or non-numeric value as 0.
 */
export function applyMetadataOperations(
  metadata: JsonObject,
  operations: readonly MetadataOperation[],
): ApplyMetadataResult {
  let result: JsonObject = structuredClone(metadata);
  const unapplied: MetadataOperation[] = [];

  for (const operation of operations) {
    if (operation.type === "update") {
      result = structuredClone(operation.value);
      continue;
    }
    if (!isSafeMetadataKey(operation.key)) {
      unapplied.push(operation);
      continue;
    }
    const target = locate(result, operation.key);
    if (!target) {
      unapplied.push(operation);
      continue;
    }
    switch (operation.type) {
      case "set": {
        if (!write(target, structuredClone(operation.value))) unapplied.push(operation);
        break;
      }
      case "delete": {
        remove(target);
        break;
      }
      case "append": {
        const current = read(target);
        const value = structuredClone(operation.value);
        const next = current === undefined ? [value] : Array.isArray(current) ? [...current, value] : [current, value];
        if (!write(target, next)) unapplied.push(operation);
        break;
      }
      case "remove": {
        const current = read(target);
        if (!Array.isArray(current)) {
          unapplied.push(operation);
          break;
        }
        write(
          target,
          current.filter((item) => !jsonEqual(item, operation.value)),
        );
        break;
      }
      case "increment": {
        const current = read(target);
        const base = typeof current === "number" ? current : 0;
        if (!write(target, base + operation.value)) unapplied.push(operation);
        break;
      }
    }
  }

  return { metadata: result, unapplied };
}
