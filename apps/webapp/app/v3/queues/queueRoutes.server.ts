import { z } from "zod";
import type { Runtime } from "~/services/runtime.server";
import { QueueOperations } from "./queueOperations.server";

/** The queue operations of a request's runtime. */
export function queueOperations(runtime: Pick<Runtime, "prisma" | "engine" | "resolver">): QueueOperations {
  return new QueueOperations(runtime.prisma, runtime.engine.runQueue, runtime.resolver);
}

/** Request bodies of the queue and concurrency-limit routes (the published SDK's shapes). */
export const MAX_QUEUE_BODY_BYTES = 16 * 1024;
const QueueType = z.enum(["id", "task", "custom"]).default("id");
export const PauseQueueBody = z.object({ type: QueueType, action: z.enum(["pause", "resume"]) });
export const OverrideQueueBody = z.object({ type: QueueType, concurrencyLimit: z.number().int().min(0).max(100_000) });
export const ResetQueueBody = z.object({ type: QueueType });
export const PauseLimitBody = z.object({ action: z.enum(["pause", "resume"]) });
/** A concurrency key as the SDK sends it (numbers become strings), 1 to 128 characters. */
export const KeySchema = z.union([z.string(), z.number()]).transform(String).pipe(z.string().min(1).max(128));
export const OverrideLimitBody = z.object({
  perKey: z.number().int().min(0).max(100_000).optional(),
  total: z.number().int().min(0).max(100_000).optional(),
  concurrencyKey: KeySchema.optional(),
  ttl: z.union([z.string(), z.number()]).optional(),
});
export const ResetLimitBody = z.object({ concurrencyKey: KeySchema.optional() });
