import { replayTriggerInput, type TriggerInput } from "@internal/run-engine";
import { PayloadTooLargeError, UnprocessableError, ValidationError } from "@runplane/core";
import {
  ErrorMessage,
  MAX_METADATA_BYTES,
  MAX_TAGS_PER_RUN,
  normalizeTags,
  normalizeTriggerPayload,
  parseDurationMs,
  resolveDelay,
  resolveTtlSeconds,
  type ReplayRunRequestBody,
} from "@runplane/core/schemas";
import { mintRunFriendlyId } from "~/runEngine/trigger/mintRunId.server";
import { getRuntime } from "~/services/runtime.server";
import { requireRunForApi, type ApiEnvironmentRef } from "../findRunForApi.server";

/** Replay overrides → engine trigger fields (only those given). Bad values → 400/413/422, nothing written. */
export function replayOverrides(body: ReplayRunRequestBody, now = new Date()): Partial<TriggerInput> {
  const out: Partial<TriggerInput> = {};
  if (body.payload !== undefined) {
    const packet = normalizeTriggerPayload(body.payload, body.payloadType);
    out.payload = packet.data ?? "";
    out.payloadType = packet.dataType;
  }
  if (body.metadata !== undefined) {
    const metadata = JSON.stringify(body.metadata);
    if (Buffer.byteLength(metadata, "utf8") > MAX_METADATA_BYTES) throw new PayloadTooLargeError(`metadata: exceeds ${MAX_METADATA_BYTES} bytes`);
    out.metadata = metadata;
    out.metadataType = "application/json";
  }
  if (body.tags !== undefined) {
    const tags = normalizeTags(body.tags);
    if (tags.length > MAX_TAGS_PER_RUN) throw new UnprocessableError(ErrorMessage.tooManyTags(tags.length));
    out.tags = tags;
  }
  if (body.queue !== undefined) out.queue = body.queue;
  if (body.concurrencyKey !== undefined) out.concurrencyKey = body.concurrencyKey;
  if (body.machine !== undefined) out.machine = body.machine;
  if (body.version !== undefined) out.lockToVersion = body.version;
  if (body.region !== undefined) out.annotations = { region: body.region };
  if (body.delay !== undefined) {
    const at = resolveDelay(body.delay, now);
    if (!at) throw new ValidationError(`delay: ${ErrorMessage.invalidDelay(String(body.delay))}`);
    if (at.getTime() > now.getTime()) out.delayUntil = at;
  }
  if (body.ttl !== undefined) {
    if (resolveTtlSeconds(body.ttl) === undefined) throw new ValidationError(`ttl: invalid ttl "${body.ttl}"`);
    out.ttl = body.ttl;
  }
  if (body.idempotencyKey !== undefined) {
    out.idempotencyKey = body.idempotencyKey;
    const ttlMs = body.idempotencyKeyTTL ? parseDurationMs(body.idempotencyKeyTTL) : undefined;
    if (ttlMs) out.idempotencyKeyExpiresAt = new Date(now.getTime() + ttlMs);
  }
  if (body.maxAttempts !== undefined) out.maxAttempts = body.maxAttempts;
  if (body.maxDuration !== undefined) out.maxDuration = body.maxDuration;
  if (body.priority !== undefined) out.priority = body.priority;
  return out;
}

/** A new run of the same task with the original's payload and options, except the overridden ones. */
export async function replayRunForApi(environment: ApiEnvironmentRef, runId: string, body: ReplayRunRequestBody | undefined): Promise<{ id: string }> {
  const overrides = body ? replayOverrides(body) : {};
  const original = await requireRunForApi(environment, runId);
  const { engine, runOps, resolver } = getRuntime();
  // A replay is a new root run: it follows the current mint policy, org override included.
  const org = (await resolver.resolveAuthenticatedEnv(environment.id))?.organization;
  const friendlyId = mintRunFriendlyId({ runOps, orgFeatureFlags: org?.featureFlags });
  if (original.isBuffered) {
    // no row to replay from yet: the same fields, from the buffered trigger
    const { run } = await engine.trigger(replayTriggerInput(original, { ...overrides, friendlyId }));
    return { id: run.friendlyId };
  }
  const { run } = await engine.replay(original.id, { ...overrides, friendlyId });
  return { id: run.friendlyId };
}
