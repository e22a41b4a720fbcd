import type { AuthenticatedEnvironment } from "@internal/database/resolver";
import type { TriggerInput } from "@internal/run-engine";
import type { DebounceOptions } from "@runplane/core/schemas";
import { getSingleton, setSingleton } from "~/utils/singleton.server";

/**
 * The seam where a trigger may be diverted instead of going to `engine.trigger` (the mollifier
 * buffers it under load). The trigger service calls `divert` after validation, id minting,
 * idempotency and debounce, with the engine input fully built (`friendlyId` set). A result means
 * "handled": the service answers with it and never calls the engine. `undefined` means "not diverted".
 */
export type TriggerDiversionInput = {
  environment: AuthenticatedEnvironment;
  /** Exactly what `engine.trigger` would get. */
  trigger: TriggerInput & { friendlyId: string };
  options: {
    debounce?: DebounceOptions;
    /** The request used a one-time-use public token (already claimed). */
    oneTimeUse: boolean;
    parentRunId?: string;
    resumeParentOnCompletion: boolean;
    /** An item of a batch (trigger.batch is set). */
    isBatchItem: boolean;
  };
};

export type TriggerDiversionResult = {
  /** The run's friendly id (normally `trigger.friendlyId`; an existing run's for an idempotent hit). */
  friendlyId: string;
  isCached: boolean;
};

export interface TriggerDiversion {
  divert(input: TriggerDiversionInput): Promise<TriggerDiversionResult | undefined>;
}

const KEY = "triggerDiversion";

/** Installs (or, with `undefined`, removes) the diversion. Default: none. */
export function setTriggerDiversion(impl: TriggerDiversion | undefined): void {
  setSingleton<TriggerDiversion | undefined>(KEY, impl);
}

export function getTriggerDiversion(): TriggerDiversion | undefined {
  return getSingleton<TriggerDiversion | undefined>(KEY);
}
