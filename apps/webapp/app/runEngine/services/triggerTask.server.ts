import type { AuthenticatedEnvironment } from "@internal/database/resolver";
import type { EngineEnvironment, TriggerInput } from "@internal/run-engine";
import { engineStore } from "@internal/run-store";
import { NotFoundError } from "@runplane/core";
import { canCancelRun } from "@runplane/core/auth";
import type { SdkRequestContext } from "@runplane/core/schemas";
import { requireScope, type ApiAuthentication } from "~/services/apiAuth.server";
import { getRuntime } from "~/services/runtime.server";
import { findRunForApi, type ApiRun } from "~/v3/runs/findRunForApi.server";
import { getTriggerDiversion } from "../triggerDiversion.server";
import { applyDebounce, type DebounceOutcome } from "../trigger/debounce.server";
import { findCachedRun } from "../trigger/idempotency.server";
import { mintRunFriendlyId } from "../trigger/mintRunId.server";
import { validateTriggerOptions, type AnyTriggerOptions, type ValidatedTrigger } from "../trigger/validateTriggerOptions.server";

export type TriggerTaskRequest = {
  environment: AuthenticatedEnvironment;
  taskIdentifier: string;
  payload: unknown;
  options?: AnyTriggerOptions;
  /** The SDK's headers (idempotency-key overrides, traceparent). */
  headers?: Partial<SdkRequestContext> & { traceparent?: string };
  /** The caller, when it is a public token: a parent run must then be writable by it. */
  auth?: ApiAuthentication;
  /** Set for an item of a batch; the parent and its wait come from the batch. */
  batchItem?: {
    batchFriendlyId: string;
    index: number;
    parentRunFriendlyId?: string;
    /** The batch's parent, already looked up once for the whole stream. */
    parent?: ApiRun;
    resumeParentOnCompletion: boolean;
  };
};

export type TriggerTaskResult = {
  friendlyId: string;
  /** An existing run answered (idempotency key, debounce). */
  isCached: boolean;
  /** A batch item that an earlier delivery of the same item already created. */
  deduplicated: boolean;
  /** The diversion seam handled it (no engine call). */
  diverted: boolean;
};

/** Step 1: the engine's view of the environment (never the secret key: the input may be serialised). */
export function toEngineEnvironment(env: AuthenticatedEnvironment): EngineEnvironment {
  return {
    id: env.id,
    type: env.type,
    projectId: env.projectId,
    organizationId: env.organizationId,
    slug: env.slug,
    maximumConcurrencyLimit: env.maximumConcurrencyLimit,
    paused: env.paused,
    archivedAt: env.archivedAt,
  };
}

/** Step 3: the parent run, in the caller's environment (404 otherwise); a token must be allowed to write it. */
async function resolveParent(request: TriggerTaskRequest, parentRunId: string | undefined): Promise<ApiRun | undefined> {
  if (!parentRunId) return undefined;
  const parent = await findRunForApi(request.environment, parentRunId);
  if (!parent) throw new NotFoundError(`Parent run ${parentRunId} not found`);
  if (request.auth) requireScope(request.auth, (scopes) => canCancelRun(scopes, parent));
  return parent;
}

/** W3C traceparent → the run's trace id and parent span. */
function traceOf(traceparent: string | undefined): Pick<TriggerInput, "traceId" | "parentSpanId"> {
  const match = traceparent ? /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/.exec(traceparent.trim()) : null;
  return match ? { traceId: match[1], parentSpanId: match[2] } : {};
}

/** Step 6: exactly what `engine.trigger` gets (and the diversion sees). */
function buildEngineInput(
  request: TriggerTaskRequest,
  trigger: ValidatedTrigger,
  friendlyId: string,
  parent: ApiRun | undefined
): TriggerInput & { friendlyId: string } {
  return {
    friendlyId,
    taskIdentifier: trigger.taskIdentifier,
    environment: toEngineEnvironment(request.environment),
    payload: trigger.payload,
    payloadType: trigger.payloadType,
    ...traceOf(request.headers?.traceparent),
    queue: trigger.queue,
    concurrencyKey: trigger.concurrencyKey,
    delayUntil: trigger.delayUntil,
    ttl: trigger.ttl,
    tags: trigger.tags,
    metadata: trigger.metadata,
    metadataType: trigger.metadataType,
    maxAttempts: trigger.maxAttempts,
    priority: trigger.priority,
    idempotencyKey: trigger.idempotencyKey,
    idempotencyKeyExpiresAt: trigger.idempotencyKeyExpiresAt,
    idempotencyKeyOptions: trigger.idempotencyKeyOptions,
    parentRunId: parent?.friendlyId,
    resumeParentOnCompletion: parent ? trigger.resumeParentOnCompletion : undefined,
    batch: request.batchItem ? { id: request.batchItem.batchFriendlyId, index: request.batchItem.index } : undefined,
    isTest: trigger.isTest || undefined,
    lockToVersion: trigger.lockToVersion,
    machine: trigger.machine,
    maxDuration: trigger.maxDuration,
    annotations: trigger.region ? { region: trigger.region } : undefined,
  };
}

/**
 * POST /api/v1/tasks/{taskId}/trigger, and each item of a batch. Steps, in order: environment →
 * validate → parent → mint id → idempotency → debounce → build input → diversion → engine.
 * Nothing is written before the engine call (or the diversion), so a refused trigger changes nothing.
 */
export class TriggerTaskService {
  async call(request: TriggerTaskRequest): Promise<TriggerTaskResult> {
    const { engine, runOps } = getRuntime();
    const item = request.batchItem;
    const options: AnyTriggerOptions | undefined = item
      ? { ...request.options, parentRunId: item.parentRunFriendlyId, resumeParentOnCompletion: item.resumeParentOnCompletion }
      : request.options;

    const trigger = validateTriggerOptions({
      taskIdentifier: request.taskIdentifier,
      payload: request.payload,
      options,
      environmentType: request.environment.type,
      headers: request.headers ?? {},
    });
    const parent = item?.parent ?? (await resolveParent(request, trigger.parentRunId));
    const friendlyId = mintRunFriendlyId({
      mintKind: runOps.mintKind,
      parentRunFriendlyId: parent?.friendlyId,
      batchItem: item ? { batchFriendlyId: item.batchFriendlyId, index: item.index } : undefined,
    });

    const waitsOnIt = Boolean(parent && trigger.resumeParentOnCompletion);
    if (!waitsOnIt) {
      const cached = await findCachedRun({
        environmentId: request.environment.id,
        taskIdentifier: trigger.taskIdentifier,
        idempotencyKey: trigger.idempotencyKey,
      });
      if (cached) return { friendlyId: cached.friendlyId, isCached: true, deduplicated: false, diverted: false };
    }

    let debounced: DebounceOutcome | undefined;
    if (trigger.debounce) {
      debounced = await applyDebounce({ environmentId: request.environment.id, trigger, newFriendlyId: friendlyId });
      if (debounced.kind === "existing") return { friendlyId: debounced.friendlyId, isCached: true, deduplicated: false, diverted: false };
    }

    const input = buildEngineInput(request, trigger, friendlyId, parent);
    try {
      const diversion = getTriggerDiversion();
      if (diversion) {
        const diverted = await diversion.divert({
          environment: request.environment,
          trigger: input,
          options: {
            debounce: request.options?.debounce,
            oneTimeUse: request.auth?.type === "PUBLIC_JWT" && request.auth.oneTimeUse,
            parentRunId: parent?.friendlyId,
            resumeParentOnCompletion: waitsOnIt,
            isBatchItem: Boolean(item),
          },
        });
        if (diverted) return { friendlyId: diverted.friendlyId, isCached: diverted.isCached, deduplicated: false, diverted: true };
      }
      const result = await engine.trigger(input);
      return { friendlyId: result.run.friendlyId, isCached: result.isCached, deduplicated: false, diverted: false };
    } catch (error) {
      if (debounced?.kind === "new") await debounced.release().catch(() => {});
      // A batch item delivered twice: its derived id already exists.
      if (item && engineStore.isUniqueViolation(error) && (await findRunForApi(request.environment, friendlyId))) {
        return { friendlyId, isCached: false, deduplicated: true, diverted: false };
      }
      throw error;
    }
  }
}

export const triggerTaskService = new TriggerTaskService();
