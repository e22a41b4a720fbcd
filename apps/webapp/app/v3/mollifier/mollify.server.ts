import type { TriggerInput } from "@internal/run-engine";
import { classifyIdShape, fromFriendlyId, generateFriendlyId, type MintKind } from "@runplane/core";
import type { MollifierBuffer } from "@runplane/redis-worker/mollifier";
import type { TripDecision } from "./gate.server";
import { serialiseTrigger, type BufferedTrigger } from "./snapshot.server";
import type { MollifierLog } from "./types.server";

/** What the trigger route answers for a buffered trigger. */
export type MollifiedTriggerResult = { id: string; isCached: boolean; isMollified: true };

/** The friendly id the engine would have minted: a child takes its parent's id family. */
export function mintRunFriendlyId(input: Pick<TriggerInput, "friendlyId" | "parentRunId">, mintKind: MintKind): string {
  if (input.friendlyId) return input.friendlyId;
  const kind = input.parentRunId ? classifyIdShape(fromFriendlyId(input.parentRunId, "run")).residency : mintKind;
  return generateFriendlyId("run", kind);
}

/**
 * Writes the fully built trigger into the buffer instead of Postgres and answers at once. The run
 * id is final: the drainer replays the snapshot with it, and reads find it in the buffer meanwhile.
 * A live buffered run holding the same idempotency key wins (its id comes back, cached).
 */
export async function mollifyTrigger(
  deps: { buffer: MollifierBuffer; mintKind: MintKind; logger: MollifierLog },
  input: { trigger: TriggerInput; decision?: Extract<TripDecision, { divert: true }> }
): Promise<MollifiedTriggerResult> {
  const friendlyId = mintRunFriendlyId(input.trigger, deps.mintKind);
  const createdAt = input.trigger.createdAt ?? new Date();
  // the materialised row keeps the accept time, so lists and cursors see one creation time
  const trigger: BufferedTrigger = { ...input.trigger, friendlyId, createdAt };
  const env = trigger.environment;
  const result = await deps.buffer.accept({
    runId: friendlyId,
    envId: env.id,
    orgId: env.organizationId,
    snapshot: serialiseTrigger(trigger),
    idempotencyKey: trigger.idempotencyKey ?? null,
    taskIdentifier: trigger.taskIdentifier,
    createdAt,
  });
  switch (result.kind) {
    case "accepted":
      deps.logger.debug("mollifier.buffered", { runId: friendlyId, envId: env.id, orgId: env.organizationId, taskId: trigger.taskIdentifier, reason: input.decision?.reason });
      return { id: friendlyId, isCached: false, isMollified: true };
    case "duplicate_idempotency":
      return { id: result.existingRunId, isCached: true, isMollified: true };
    case "duplicate_run_id":
      throw new Error(`mollifier: run id ${friendlyId} is already buffered`);
  }
}
