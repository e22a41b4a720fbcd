import { PayloadTooLargeError, UnprocessableError, ValidationError } from "@runplane/core";
import {
  ErrorMessage,
  MAX_METADATA_BYTES,
  MAX_TAGS_PER_RUN,
  PAYLOAD_TYPE,
  normalizeTags,
  normalizeTriggerPayload,
  parseDurationMs,
  resolveDelay,
  resolveTtlSeconds,
  type BatchItemTriggerOptions,
  type DebounceOptions,
  type IdempotencyKeyOptions,
  type SdkRequestContext,
  type TriggerTaskOptions,
} from "@runplane/core/schemas";

/** The trigger options after validation, in the shapes the engine takes. */
export type ValidatedTrigger = {
  taskIdentifier: string;
  payload: string;
  payloadType: string;
  tags: string[];
  metadata?: string;
  metadataType?: string;
  delayUntil?: Date;
  ttl?: string | number;
  idempotencyKey?: string;
  idempotencyKeyExpiresAt?: Date;
  idempotencyKeyOptions?: IdempotencyKeyOptions;
  queue?: string;
  concurrencyKey?: string;
  maxAttempts?: number;
  maxDuration?: number;
  machine?: string;
  priority?: number;
  lockToVersion?: string;
  region?: string;
  isTest: boolean;
  parentRunId?: string;
  resumeParentOnCompletion: boolean;
  debounce?: { key: string; delayMs: number; maxDelayMs?: number; mode: "leading" | "trailing" };
};

/** Options of a single trigger, or of a batch item (which takes its parent from the batch). */
export type AnyTriggerOptions = TriggerTaskOptions | (BatchItemTriggerOptions & { parentRunId?: string; resumeParentOnCompletion?: boolean });

/** Default time to live of a run that is not started, per environment type (the reference's dev default). */
const DEFAULT_DEVELOPMENT_TTL = "10m";

function validateTags(options: AnyTriggerOptions): string[] {
  const tags = normalizeTags(options.tags);
  if (tags.length > MAX_TAGS_PER_RUN) throw new UnprocessableError(ErrorMessage.tooManyTags(tags.length));
  return tags;
}

function validateMetadata(options: AnyTriggerOptions): { metadata?: string; metadataType?: string } {
  if (options.metadata === undefined || options.metadata === null) return {};
  const metadataType = options.metadataType ?? PAYLOAD_TYPE.json;
  const metadata =
    typeof options.metadata === "string" && options.metadataType !== undefined ? options.metadata : JSON.stringify(options.metadata);
  if (Buffer.byteLength(metadata, "utf8") > MAX_METADATA_BYTES) {
    throw new PayloadTooLargeError(`options.metadata: metadata exceeds ${MAX_METADATA_BYTES} bytes`);
  }
  return { metadata, metadataType };
}

function validateDelay(options: AnyTriggerOptions, now: Date): Date | undefined {
  if (options.delay === undefined) return undefined;
  const at = resolveDelay(options.delay, now);
  if (!at) throw new ValidationError(`options.delay: ${ErrorMessage.invalidDelay(String(options.delay))}`);
  return at.getTime() > now.getTime() ? at : undefined;
}

function validateTtl(options: AnyTriggerOptions, environmentType: string): string | number | undefined {
  if (options.ttl === undefined) return environmentType === "DEVELOPMENT" ? DEFAULT_DEVELOPMENT_TTL : undefined;
  if (resolveTtlSeconds(options.ttl) === undefined) throw new ValidationError(`options.ttl: invalid ttl "${options.ttl}"`);
  return options.ttl;
}

function validateIdempotency(
  options: AnyTriggerOptions,
  headers: Pick<SdkRequestContext, "idempotencyKeyOverride" | "idempotencyKeyTtlOverride">,
  now: Date
): Pick<ValidatedTrigger, "idempotencyKey" | "idempotencyKeyExpiresAt" | "idempotencyKeyOptions"> {
  const key = headers.idempotencyKeyOverride ?? options.idempotencyKey;
  if (!key) return {};
  if (key.length > 2048) throw new ValidationError("options.idempotencyKey: must be at most 2048 characters");
  const ttlText = headers.idempotencyKeyTtlOverride ?? options.idempotencyKeyTTL;
  // Unparseable TTLs fall back to the default lifetime, as the reference does.
  const ttlMs = ttlText ? parseDurationMs(ttlText) : undefined;
  return {
    idempotencyKey: key,
    idempotencyKeyExpiresAt: ttlMs ? new Date(now.getTime() + ttlMs) : undefined,
    idempotencyKeyOptions: options.idempotencyKeyOptions,
  };
}

function validateDebounce(debounce: DebounceOptions | undefined): ValidatedTrigger["debounce"] {
  if (!debounce) return undefined;
  const delayMs = parseDurationMs(debounce.delay);
  if (!delayMs) throw new UnprocessableError(`options.debounce.delay: invalid duration "${debounce.delay}"`);
  let maxDelayMs: number | undefined;
  if (debounce.maxDelay !== undefined) {
    maxDelayMs = parseDurationMs(debounce.maxDelay);
    if (!maxDelayMs) throw new UnprocessableError(`options.debounce.maxDelay: invalid duration "${debounce.maxDelay}"`);
    if (maxDelayMs <= delayMs) throw new UnprocessableError("options.debounce.maxDelay: must be longer than delay");
  }
  if (debounce.key.length === 0) throw new UnprocessableError("options.debounce.key: must not be empty");
  return { key: debounce.key, delayMs, maxDelayMs, mode: debounce.mode ?? "leading" };
}

/**
 * Step 2 of a trigger: every option checked and converted. Client mistakes are 400 (naming the field),
 * 413 (metadata too large) or 422 (too many tags, bad debounce), and nothing has been written yet.
 */
export function validateTriggerOptions(input: {
  taskIdentifier: string;
  payload: unknown;
  options: AnyTriggerOptions | undefined;
  environmentType: string;
  headers: Pick<SdkRequestContext, "idempotencyKeyOverride" | "idempotencyKeyTtlOverride">;
  now?: Date;
}): ValidatedTrigger {
  const now = input.now ?? new Date();
  const options: AnyTriggerOptions = input.options ?? {};
  if (!input.taskIdentifier || input.taskIdentifier.length > 128) throw new ValidationError("taskId: must be 1-128 characters");
  const packet = normalizeTriggerPayload(input.payload, options.payloadType);
  if (options.maxAttempts !== undefined && options.maxAttempts < 1) throw new ValidationError("options.maxAttempts: must be at least 1");
  if (options.maxDuration !== undefined && options.maxDuration <= 0) throw new ValidationError("options.maxDuration: must be positive");
  if (options.queue && options.queue.name.trim().length === 0) throw new ValidationError("options.queue.name: must not be empty");
  const debounce = validateDebounce(options.debounce);
  return {
    taskIdentifier: input.taskIdentifier,
    payload: packet.data ?? "",
    payloadType: packet.dataType,
    tags: validateTags(options),
    ...validateMetadata(options),
    // A debounced run's delay is the debounce delay.
    delayUntil: debounce ? new Date(now.getTime() + debounce.delayMs) : validateDelay(options, now),
    ttl: validateTtl(options, input.environmentType),
    ...validateIdempotency(options, input.headers, now),
    queue: options.queue?.name.trim(),
    concurrencyKey: options.concurrencyKey,
    maxAttempts: options.maxAttempts,
    maxDuration: options.maxDuration,
    machine: options.machine,
    priority: options.priority,
    lockToVersion: options.lockToVersion,
    region: options.region,
    isTest: options.test ?? false,
    parentRunId: options.parentRunId,
    resumeParentOnCompletion: options.resumeParentOnCompletion ?? false,
    debounce,
  };
}
