import type { Redis } from "ioredis";
import { createRedisClient } from "@runplane/redis-worker/redis";
import type { Runtime } from "~/services/runtime.server";
import { getSingleton, setSingleton } from "~/utils/singleton.server";
import { RealtimeChangeLog } from "./changeLog.server";
import { RealtimeChangePublisher } from "./changePublisher.server";
import { RealtimeChangeRouter } from "./changeRouter.server";
import { createRealtimeRunSource, type RealtimeRunSource } from "./runSource.server";
import type { ShapeFeedDeps } from "./shapeFeed.server";

/** The native realtime backend of one process: change log, engine-event publisher, pub/sub router. */
export class RealtimeService {
  readonly changeLog: RealtimeChangeLog;
  readonly publisher: RealtimeChangePublisher;
  readonly router: RealtimeChangeRouter;
  readonly source: RealtimeRunSource;
  readonly holdMs: number;
  private detach: (() => void) | null = null;
  private readonly subscriber: Redis;

  constructor(private readonly runtime: Pick<Runtime, "env" | "redis" | "runStore" | "engine" | "logger">) {
    const logger = runtime.logger.child({ component: "realtime" });
    this.changeLog = new RealtimeChangeLog({ redis: runtime.redis, keyPrefix: runtime.env.REDIS_KEY_PREFIX });
    this.publisher = new RealtimeChangePublisher({ changeLog: this.changeLog, runStore: runtime.runStore, logger });
    this.subscriber = createRedisClient(runtime.env.REDIS_URL, "runplane-realtime-subscriber");
    this.router = new RealtimeChangeRouter({
      subscriber: this.subscriber,
      channel: (environmentId) => this.changeLog.channel(environmentId),
      logger,
    });
    this.source = createRealtimeRunSource(runtime.runStore);
    this.holdMs = runtime.env.REALTIME_LIVE_HOLD_MS;
  }

  get feedDeps(): ShapeFeedDeps {
    return { changeLog: this.changeLog, router: this.router, source: this.source, holdMs: this.holdMs };
  }

  /** Publishes the engine's run changes from now on. */
  start(): void {
    this.detach ??= this.publisher.attach(this.runtime.engine.eventBus);
  }

  /** Stops publishing (after writing what is pending) and answers every held long-poll. */
  async stop(): Promise<boolean> {
    this.detach?.();
    this.detach = null;
    await this.publisher.drain();
    await this.router.close();
    return true;
  }
}

const SERVICE_KEY = "realtimeService";

/** The process's realtime service (built on first use). */
export function getRealtimeService(runtime: Pick<Runtime, "env" | "redis" | "runStore" | "engine" | "logger">): RealtimeService {
  return getSingleton<RealtimeService>(SERVICE_KEY) ?? setSingleton(SERVICE_KEY, new RealtimeService(runtime));
}

/** For writes outside the engine (e.g. tags added by a route): wakes the feeds showing this run. */
export function notifyRunChanged(runtime: Pick<Runtime, "env" | "redis" | "runStore" | "engine" | "logger">, environmentId: string, runId: string): void {
  if (runtime.env.REALTIME_BACKEND !== "native") return;
  getRealtimeService(runtime).publisher.runChanged(environmentId, runId);
}

/** Boot: the realtime change feed as a background worker (native backend only). */
export function registerRealtimeBackgroundWorker(runtime: Runtime): void {
  runtime.backgroundWorkers.register(
    {
      name: "realtime-change-feed",
      start: () => getRealtimeService(runtime).start(),
      stop: async () => (await getSingleton<RealtimeService>(SERVICE_KEY)?.stop()) ?? true,
    },
    { enabled: runtime.env.REALTIME_BACKEND === "native" }
  );
}
