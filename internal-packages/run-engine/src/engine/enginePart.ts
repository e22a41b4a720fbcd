import type { BatchSystem } from "../batches/batchSystem.js";
import type { EngineEventBus } from "../eventBus/index.js";
import type { RunLocker } from "../locks/index.js";
import type { ResolvedRetryPolicy } from "../retry/index.js";
import type { RunQueue } from "../runQueue/index.js";
import type { WaitpointSystem } from "../waitpoints/waitpointSystem.js";
import type { MintKind } from "@runplane/core";
import type { EngineCore } from "./core.js";
import type { QueueRepair } from "./queueRepair.js";
import type { EngineLogger, RunEngineOptions } from "./types.js";

/** What every part of the engine shares (RunEngine builds it once). */
export type EngineDeps = {
  core: EngineCore;
  runQueue: RunQueue;
  eventBus: EngineEventBus;
  locker: RunLocker;
  logger: EngineLogger;
  options: RunEngineOptions;
  retryDefaults: ResolvedRetryPolicy;
  mintKind: MintKind;
  waitpoints: WaitpointSystem;
  batches: BatchSystem;
  queueRepair: QueueRepair;
};

/** Base of the engine's parts (trigger, dequeue, attempts, …): the shared pieces as fields. */
export class EnginePart {
  protected readonly core: EngineCore;
  protected readonly runQueue: RunQueue;
  protected readonly eventBus: EngineEventBus;
  protected readonly locker: RunLocker;
  protected readonly logger: EngineLogger;
  protected readonly options: RunEngineOptions;
  protected readonly retryDefaults: ResolvedRetryPolicy;
  protected readonly mintKind: MintKind;
  protected readonly waitpoints: WaitpointSystem;
  protected readonly batches: BatchSystem;
  protected readonly queueRepair: QueueRepair;

  constructor(deps: EngineDeps) {
    this.core = deps.core;
    this.runQueue = deps.runQueue;
    this.eventBus = deps.eventBus;
    this.locker = deps.locker;
    this.logger = deps.logger;
    this.options = deps.options;
    this.retryDefaults = deps.retryDefaults;
    this.mintKind = deps.mintKind;
    this.waitpoints = deps.waitpoints;
    this.batches = deps.batches;
    this.queueRepair = deps.queueRepair;
  }
}
