import { z } from "zod";

/**
 * Request bodies of the trigger.dev CLI's dev protocol, as the CLI 4.8.3 sends them. Fields the
 * server does not use are accepted and ignored (the CLI adds fields between versions).
 */

export const DevDequeueRequest = z.object({
  currentWorker: z.string().min(1).max(128),
  oldWorkers: z.array(z.string().max(128)).max(100).default([]),
});

export const DevHeartbeatRequest = z.object({ cpu: z.number().optional(), memory: z.number().optional() });

export const DevDisconnectRequest = z.object({ runFriendlyIds: z.array(z.string().max(128)).max(1000) });

export const DevDebugLogRequest = z.object({
  time: z.coerce.date(),
  message: z.string().max(4096),
  properties: z.record(z.unknown()).optional(),
});

const TaskRunError = z
  .object({
    type: z.enum(["BUILT_IN_ERROR", "CUSTOM_ERROR", "STRING_ERROR", "INTERNAL_ERROR"]),
    name: z.string().optional(),
    message: z.string().optional(),
    stackTrace: z.string().optional(),
    raw: z.string().optional(),
    code: z.string().optional(),
  })
  .passthrough();

const Usage = z.object({ durationMs: z.number().nonnegative() }).optional();
const FlushedMetadata = z.object({ data: z.string().optional(), dataType: z.string() }).optional();

export const DevCompleteAttemptRequest = z.object({
  completion: z.discriminatedUnion("ok", [
    z.object({ ok: z.literal(true), id: z.string(), output: z.string().optional(), outputType: z.string(), usage: Usage, flushedMetadata: FlushedMetadata }),
    z.object({
      ok: z.literal(false),
      id: z.string(),
      error: TaskRunError,
      retry: z.object({ timestamp: z.number(), delay: z.number().nonnegative() }).optional(),
      skippedRetrying: z.boolean().optional(),
      usage: Usage,
      flushedMetadata: FlushedMetadata,
    }),
  ]),
});
