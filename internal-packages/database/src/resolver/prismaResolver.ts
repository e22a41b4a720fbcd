import { NotFoundError } from "@runplane/core";
import type { PrismaClient } from "../generated/prisma/client.js";
import { loadEnvironmentByApiKey, loadEnvironmentById, loadWorkerVersion, toResolvedEnvironment } from "./queries.js";
import { BoundedTtlCache, type TtlCacheOptions, type TtlCacheStats } from "./ttlCache.js";
import type {
  AuthenticatedEnvironment,
  ControlPlaneResolver,
  ResolvedEnvironment,
  ResolvedWorkerVersion,
} from "./types.js";

export type PrismaControlPlaneResolverOptions = {
  /** Control-plane client (a read replica is fine: writes go elsewhere and call invalidate*). */
  client: PrismaClient;
  /** TTL (default 30 s), entry bound (default 10,000) and clock of the cache. */
  cache?: TtlCacheOptions;
  /**
   * Cache "newest worker of the env" lookups too. Off by default: a deploy registered by another
   * process must be dispatched on the very next call, and invalidation is in-process only.
   */
  cacheLatestWorker?: boolean;
};

type Cached = AuthenticatedEnvironment | ResolvedWorkerVersion | null;
/** Where a loaded value is stored: tags for invalidation, and extra keys that hold the same value. */
type Placement = { tags: string[]; alsoAt?: string[] };

const envKey = (id: string) => `env:${id}`;
const apiKeyKey = (apiKey: string) => `apikey:${apiKey}`;
const workerKey = (envId: string, pin: { version?: string; workerId?: string }) =>
  `worker:${envId}:${pin.version ?? "*"}:${pin.workerId ?? "*"}`;

const envTag = (id: string) => `t:env:${id}`;
const orgTag = (id: string) => `t:org:${id}`;
const workersTag = (envId: string) => `t:workers:${envId}`;

function environmentTags(env: AuthenticatedEnvironment): string[] {
  return [envTag(env.id), orgTag(env.organizationId)];
}

/**
 * Cache-first control-plane lookups. Absences are cached too (a confirmed "no such row"), so a row
 * created after a miss is seen only after the TTL or an explicit invalidation. Invalidation is
 * in-process; other processes converge within the TTL.
 */
export class PrismaControlPlaneResolver implements ControlPlaneResolver {
  readonly #client: PrismaClient;
  readonly #cache: BoundedTtlCache<Cached>;
  readonly #cacheLatestWorker: boolean;
  readonly #inFlight = new Map<string, { promise: Promise<Cached>; epoch: number }>();
  // Bumped by every invalidation: a load that overlapped one may carry pre-write data and is not cached.
  #invalidationEpoch = 0;

  constructor(options: PrismaControlPlaneResolverOptions) {
    this.#client = options.client;
    this.#cache = new BoundedTtlCache<Cached>(options.cache);
    this.#cacheLatestWorker = options.cacheLatestWorker ?? false;
  }

  async resolveEnv(environmentId: string): Promise<ResolvedEnvironment | null> {
    const env = await this.resolveAuthenticatedEnv(environmentId);
    return env ? toResolvedEnvironment(env) : null;
  }

  resolveAuthenticatedEnv(environmentId: string): Promise<AuthenticatedEnvironment | null> {
    return this.#cached(envKey(environmentId), () => loadEnvironmentById(this.#client, environmentId), (env) =>
      // An absence is tagged with the id, so invalidateEnv after creating the row makes it visible.
      env ? { tags: environmentTags(env) } : { tags: [envTag(environmentId)] }
    );
  }

  resolveEnvByApiKey(apiKey: string): Promise<AuthenticatedEnvironment | null> {
    return this.#cached(apiKeyKey(apiKey), () => loadEnvironmentByApiKey(this.#client, apiKey), (env) =>
      // A found env also fills the by-id entry: the engine looks the same env up by id next.
      env ? { tags: environmentTags(env), alsoAt: [envKey(env.id)] } : { tags: [] }
    );
  }

  resolveWorkerVersion(
    environmentId: string,
    options: { version?: string; workerId?: string } = {}
  ): Promise<ResolvedWorkerVersion | null> {
    const pin = { version: options.version, workerId: options.workerId };
    const load = () => loadWorkerVersion(this.#client, environmentId, pin);
    const pinned = pin.version !== undefined || pin.workerId !== undefined;
    if (!pinned && !this.#cacheLatestWorker) return load();
    return this.#cached(workerKey(environmentId, pin), load, () => ({ tags: [workersTag(environmentId)] }));
  }

  async assertEnvExists(environmentId: string): Promise<ResolvedEnvironment> {
    const env = await this.resolveEnv(environmentId);
    if (!env) throw new NotFoundError(`Environment not found: ${environmentId}`);
    return env;
  }

  invalidateEnv(environmentId: string): void {
    this.#invalidationEpoch++;
    this.#cache.invalidateTag(envTag(environmentId));
  }

  /** Every cached environment of the organisation (by id and by API key). Cached absences carry no org. */
  invalidateOrg(organizationId: string): void {
    this.#invalidationEpoch++;
    this.#cache.invalidateTag(orgTag(organizationId));
  }

  invalidateWorkers(environmentId: string): void {
    this.#invalidationEpoch++;
    this.#cache.invalidateTag(workersTag(environmentId));
  }

  cacheStats(): TtlCacheStats {
    return this.#cache.stats();
  }

  /**
   * Cache hit, or one shared load per key (concurrent misses wait for the same query). A load that
   * overlapped an invalidation is returned to its callers but neither cached nor shared afterwards.
   */
  async #cached<T extends Cached>(key: string, load: () => Promise<T>, placement: (value: T) => Placement): Promise<T> {
    const hit = this.#cache.get(key);
    if (hit !== undefined) return hit as T;
    const pending = this.#inFlight.get(key);
    if (pending && pending.epoch === this.#invalidationEpoch) return pending.promise as Promise<T>;

    const epoch = this.#invalidationEpoch;
    const promise = load().then((value) => {
      if (epoch === this.#invalidationEpoch) {
        const { tags, alsoAt = [] } = placement(value);
        for (const at of [key, ...alsoAt]) this.#cache.set(at, value, tags);
      }
      return value;
    });
    const flight = { promise, epoch };
    this.#inFlight.set(key, flight);
    try {
      return await promise;
    } finally {
      if (this.#inFlight.get(key) === flight) this.#inFlight.delete(key);
    }
  }
}
