import type { AuthenticatedEnvironment } from "@internal/database/resolver";
import { apiQueries, engineStore, type BatchTaskRun } from "@internal/run-store";
import { NotFoundError, RunplaneError, UnprocessableError, ValidationError, deriveFriendlyId, toFriendlyId } from "@runplane/core";
import { canBatchTrigger } from "@runplane/core/auth";
import {
  ErrorMessage,
  MAX_BATCH_RUN_COUNT,
  MAX_NDJSON_LINE_BYTES,
  normalizeTriggerPayload,
  parseBatchItemLine,
  type BatchItemNDJSON,
  type CreateBatchRequestBody,
} from "@runplane/core/schemas";
import { requireScope, type ApiAuthentication } from "~/services/apiAuth.server";
import { getRuntime } from "~/services/runtime.server";
import { findRunForApi, requireRunForApi, type ApiRun } from "~/v3/runs/findRunForApi.server";
import { mintBatchFriendlyId } from "../trigger/mintRunId.server";
import { toEngineEnvironment, triggerTaskService } from "./triggerTask.server";

/** Items of one stream triggered at the same time. */
const ITEM_CONCURRENCY = 8;
/** How long the item ledger outlives its last write. */
const LEDGER_TTL_MS = 7 * 24 * 3600_000;

// ---------------------------------------------------------------------------------------------------
// Phase 1: create

export type CreateBatchResult = { id: string; runCount: number; isCached: boolean; idempotencyKey?: string };

/** POST /api/v3/batches: the batch row (and, for batchTriggerAndWait, the parent blocked on it). */
export async function createBatchForApi(environment: AuthenticatedEnvironment, body: CreateBatchRequestBody): Promise<CreateBatchResult> {
  if (body.runCount > MAX_BATCH_RUN_COUNT) throw new ValidationError(`runCount: ${ErrorMessage.batchTooLarge(body.runCount, MAX_BATCH_RUN_COUNT)}`);
  const { engine, runOps } = getRuntime();
  let parent: ApiRun | undefined;
  if (body.parentRunId) {
    parent = (await findRunForApi(environment, body.parentRunId)) ?? undefined;
    if (!parent) throw new NotFoundError(`Parent run ${body.parentRunId} not found`);
  }
  const { batch, isCached } = await engine.createBatch({
    environment: toEngineEnvironment(environment),
    runCount: body.runCount,
    friendlyId: mintBatchFriendlyId({ mintKind: runOps.mintKind, parentRunFriendlyId: parent?.friendlyId }),
    idempotencyKey: body.idempotencyKey,
    parentRunId: parent?.friendlyId,
    resumeParentOnCompletion: body.resumeParentOnCompletion,
  });
  return {
    id: batch.friendlyId,
    runCount: batch.runCount,
    isCached,
    idempotencyKey: body.idempotencyKeyOptions?.key ?? batch.idempotencyKey ?? undefined,
  };
}

// ---------------------------------------------------------------------------------------------------
// The item ledger: index → run friendly id, in Redis. A lost ledger is rebuilt by resending the items:
// an item's run id is derived from the batch id and its index, so a second delivery cannot create a
// second run.

class BatchItemLedger {
  readonly #key: string;
  #entries = new Map<number, string>();

  constructor(batch: BatchTaskRun) {
    this.#key = `${getRuntime().env.REDIS_KEY_PREFIX}api:batch:${batch.id}:items`;
  }

  async load(): Promise<this> {
    const raw = await getRuntime().redis.hgetall(this.#key);
    this.#entries = new Map(Object.entries(raw).map(([index, runId]) => [Number(index), runId]));
    return this;
  }

  has(index: number): boolean {
    return this.#entries.has(index);
  }

  async record(index: number, runFriendlyId: string): Promise<void> {
    this.#entries.set(index, runFriendlyId);
    const { redis } = getRuntime();
    await redis.hset(this.#key, String(index), runFriendlyId);
    await redis.pexpire(this.#key, LEDGER_TTL_MS);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Run ids in index order (indexes not yet recorded are skipped). */
  ordered(): string[] {
    return [...this.#entries.entries()].sort(([a], [b]) => a - b).map(([, runId]) => runId);
  }
}

/** The batch's run ids in index order: the sealed list, or what the ledger holds so far. */
export async function batchRunIds(batch: BatchTaskRun): Promise<string[]> {
  if (batch.sealed) return batch.runIds;
  return (await new BatchItemLedger(batch).load()).ordered();
}

// ---------------------------------------------------------------------------------------------------
// Phase 2: items

export type StreamItemsResult = {
  id: string;
  itemsAccepted: number;
  itemsDeduplicated: number;
  sealed: boolean;
  enqueuedCount?: number;
  expectedCount?: number;
};

/** `\n`-separated lines of a byte stream, each at most `maxLineBytes` (else 400). */
async function* ndjsonLines(body: ReadableStream<Uint8Array> | null, maxLineBytes: number): AsyncGenerator<{ line: string; number: number }> {
  if (!body) return;
  const decoder = new TextDecoder();
  let buffer = "";
  let number = 0;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let newline: number;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        number++;
        if (line.trim().length > 0) yield { line, number };
      }
      if (Buffer.byteLength(buffer, "utf8") > maxLineBytes) throw new ValidationError(`line ${number + 1}: item exceeds ${maxLineBytes} bytes`);
      if (done) break;
    }
    if (buffer.trim().length > 0) yield { line: buffer, number: number + 1 };
  } finally {
    reader.releaseLock();
  }
}

type ItemContext = {
  environment: AuthenticatedEnvironment;
  batch: BatchTaskRun;
  parent?: ApiRun;
  ledger: BatchItemLedger;
};

/** An item that cannot become a run (bad options, unknown version…) becomes a pre-failed run plus a batch error. */
async function recordFailedItem(context: ItemContext, item: BatchItemNDJSON, error: RunplaneError): Promise<"accepted" | "deduplicated"> {
  const { engine } = getRuntime();
  const { batch, environment, parent } = context;
  const friendlyId = deriveFriendlyId("run", batch.friendlyId, `item:${item.index}`);
  const packet = normalizeTriggerPayload(item.payload, item.options?.payloadType);
  try {
    await engine.batches.recordItemError(batch.id, {
      index: item.index,
      taskIdentifier: item.task,
      error: error.message,
      errorCode: "BATCH_ITEM_COULD_NOT_TRIGGER",
    });
    await engine.createFailedTaskRun({
      friendlyId,
      environment: toEngineEnvironment(environment),
      taskIdentifier: item.task,
      payload: packet.data,
      payloadType: packet.dataType,
      error: { type: "INTERNAL_ERROR", code: "BATCH_ITEM_COULD_NOT_TRIGGER", message: error.message },
      parentTaskRunId: parent?.id,
      rootTaskRunId: parent ? (parent.rootTaskRunId ?? parent.id) : undefined,
      depth: parent ? parent.depth + 1 : 0,
      resumeParentOnCompletion: batch.resumeParentOnCompletion,
      batch: { id: batch.friendlyId, index: item.index },
    });
  } catch (failure) {
    if (!engineStore.isUniqueViolation(failure)) throw failure;
    await context.ledger.record(item.index, friendlyId);
    return "deduplicated";
  }
  await context.ledger.record(item.index, friendlyId);
  return "accepted";
}

async function processItem(context: ItemContext, item: BatchItemNDJSON): Promise<"accepted" | "deduplicated"> {
  const { batch, environment, parent } = context;
  try {
    const result = await triggerTaskService.call({
      environment,
      taskIdentifier: item.task,
      payload: item.payload,
      options: item.options,
      batchItem: {
        batchFriendlyId: batch.friendlyId,
        index: item.index,
        parentRunFriendlyId: parent?.friendlyId,
        parent,
        resumeParentOnCompletion: batch.resumeParentOnCompletion,
      },
    });
    await context.ledger.record(item.index, result.friendlyId);
    return result.deduplicated ? "deduplicated" : "accepted";
  } catch (error) {
    // Client mistakes fail the item, not the stream; server faults fail the stream (the client resends).
    if (error instanceof RunplaneError && error.status >= 400 && error.status < 500) return recordFailedItem(context, item, error);
    throw error;
  }
}

/**
 * POST /api/v3/batches/{id}/items: NDJSON items, deduplicated by index. Once every index is in, the
 * batch is sealed (run ids in index order, PROCESSING); otherwise the answer says how many are
 * missing and the client resends the stream.
 */
export async function streamBatchItemsForApi(input: {
  environment: AuthenticatedEnvironment;
  auth: ApiAuthentication;
  batchFriendlyId: string;
  body: ReadableStream<Uint8Array> | null;
}): Promise<StreamItemsResult> {
  const { environment } = input;
  const { runStore, engine } = getRuntime();
  const batch = input.batchFriendlyId.length <= 128 ? await runStore.findBatch({ friendlyId: input.batchFriendlyId, environmentId: environment.id }) : null;
  if (!batch) throw new NotFoundError("Batch not found");
  if (batch.sealed) return { id: batch.friendlyId, itemsAccepted: 0, itemsDeduplicated: 0, sealed: true };
  // A batch whose items all finished before it was sealed is already COMPLETED: a resent stream still seals it.
  if (batch.status === "ABORTED") throw new UnprocessableError(`Batch ${batch.friendlyId} is ${batch.status} and accepts no more items`);

  const parent = batch.parentRunId ? await requireRunForApi(environment, toFriendlyId("run", batch.parentRunId)) : undefined;
  const ledger = await new BatchItemLedger(batch).load();
  const context: ItemContext = { environment, batch, parent, ledger };
  let accepted = 0;
  let deduplicated = 0;
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;

  for await (const { line, number } of ndjsonLines(input.body, MAX_NDJSON_LINE_BYTES)) {
    if (failure) break;
    const parsed = parseBatchItemLine(line, number);
    if (!parsed.ok) throw new ValidationError(parsed.error);
    const item = parsed.item;
    if (item.index >= batch.runCount) throw new ValidationError(`line ${number}: index ${item.index} is outside the batch (runCount ${batch.runCount})`);
    requireScope(input.auth, (scopes) => canBatchTrigger(scopes, [item.task]));
    if (ledger.has(item.index)) {
      deduplicated++;
      continue;
    }
    const work = processItem(context, item).then(
      (outcome) => void (outcome === "accepted" ? accepted++ : deduplicated++),
      (error: unknown) => void (failure ??= error)
    );
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
    if (inFlight.size >= ITEM_CONCURRENCY) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  if (failure) throw failure;

  if (ledger.size < batch.runCount) {
    return { id: batch.friendlyId, itemsAccepted: accepted, itemsDeduplicated: deduplicated, sealed: false, enqueuedCount: ledger.size, expectedCount: batch.runCount };
  }
  await apiQueries.sealBatch(runStore, batch.id, ledger.ordered());
  // Every item may already be final (fast tasks, pre-failed items): completion is checked now too.
  await engine.batches.tryCompleteBatch(batch.id);
  return { id: batch.friendlyId, itemsAccepted: accepted, itemsDeduplicated: deduplicated, sealed: true };
}
