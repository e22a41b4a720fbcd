import { createHash } from "node:crypto";
import { UnprocessableError } from "@runplane/core";
import { getRuntime } from "~/services/runtime.server";
import { findRunForApi } from "~/v3/runs/findRunForApi.server";
import type { ValidatedTrigger } from "./validateTriggerOptions.server";

/**
 * Debounced triggers (`options.debounce`): while the run a key points at is still DELAYED, another
 * trigger with the key pushes its start back by `delay` (never past first trigger + `maxDelay`) and
 * answers with that run's id. `trailing` mode also replaces its payload and metadata with the latest.
 * The key → run mapping lives in Redis for as long as the run may still be delayed.
 */

type Entry = { runId: string; firstAt: number };

export type DebounceOutcome =
  | { kind: "existing"; friendlyId: string }
  | { kind: "new"; /** Call when the new run could not be created. */ release(): Promise<void> };

function keyFor(environmentId: string, taskIdentifier: string, debounceKey: string): string {
  const digest = createHash("sha256").update(`${taskIdentifier}\0${debounceKey}`).digest("hex");
  return `${getRuntime().env.REDIS_KEY_PREFIX}api:debounce:${environmentId}:${digest}`;
}

function parseEntry(raw: string | null): Entry | null {
  if (!raw) return null;
  try {
    const value = JSON.parse(raw) as Partial<Entry>;
    return typeof value.runId === "string" && typeof value.firstAt === "number" ? (value as Entry) : null;
  } catch {
    return null;
  }
}

async function pushBack(environmentId: string, entry: Entry, trigger: ValidatedTrigger, now: number): Promise<boolean> {
  const debounce = trigger.debounce!;
  const { engine, runStore } = getRuntime();
  // The run may be created a moment after its entry (another request is writing it).
  let run = await findRunForApi({ id: environmentId }, entry.runId);
  for (let i = 0; !run && i < 20 && now - entry.firstAt < 5_000; i++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    run = await findRunForApi({ id: environmentId }, entry.runId);
  }
  if (!run || run.status !== "DELAYED") return false;
  let startAt = now + debounce.delayMs;
  if (debounce.maxDelayMs !== undefined) startAt = Math.min(startAt, entry.firstAt + debounce.maxDelayMs);
  try {
    await engine.rescheduleRun(run.id, new Date(startAt));
  } catch (error) {
    // It left DELAYED in the meantime: the trigger creates a new run.
    if (error instanceof UnprocessableError) return false;
    throw error;
  }
  if (debounce.mode === "trailing") {
    await runStore.updateRun(run.id, {
      payload: trigger.payload,
      payloadType: trigger.payloadType,
      ...(trigger.metadata !== undefined ? { metadata: trigger.metadata, metadataType: trigger.metadataType, seedMetadata: trigger.metadata } : {}),
    });
  }
  return true;
}

/**
 * Step 4b of a trigger. Either an existing delayed run absorbs this trigger, or `newFriendlyId` is
 * recorded as the key's run (the caller then creates it, with `delayUntil` = now + delay).
 */
export async function applyDebounce(input: {
  environmentId: string;
  trigger: ValidatedTrigger;
  newFriendlyId: string;
}): Promise<DebounceOutcome> {
  const debounce = input.trigger.debounce!;
  const { redis } = getRuntime();
  const key = keyFor(input.environmentId, input.trigger.taskIdentifier, debounce.key);
  const ttlMs = (debounce.maxDelayMs ?? debounce.delayMs) + 60_000;

  for (let attempt = 0; attempt < 5; attempt++) {
    const now = Date.now();
    const raw = await redis.get(key);
    const entry = parseEntry(raw);
    if (entry && (await pushBack(input.environmentId, entry, input.trigger, now))) {
      return { kind: "existing", friendlyId: entry.runId };
    }
    const mine = JSON.stringify({ runId: input.newFriendlyId, firstAt: now } satisfies Entry);
    // Take the key only if it is still what we saw (absent, or the finished run's entry).
    const taken = raw === null ? await redis.set(key, mine, "PX", ttlMs, "NX") : await replaceIfUnchanged(key, raw, mine, ttlMs);
    if (taken === "OK") {
      return {
        kind: "new",
        release: async () => {
          if ((await redis.get(key)) === mine) await redis.del(key);
        },
      };
    }
  }
  throw new UnprocessableError("options.debounce: too many concurrent triggers with this key; try again");
}

async function replaceIfUnchanged(key: string, expected: string, next: string, ttlMs: number): Promise<"OK" | null> {
  const { redis } = getRuntime();
  // WATCH/MULTI on a dedicated duplicate would be exact; a read-compare-set is enough here: the
  // worst case is two debounced runs for one key after the previous run started.
  if ((await redis.get(key)) !== expected) return null;
  await redis.set(key, next, "PX", ttlMs);
  return "OK";
}
