export type * from "./types.js";
export { PrismaControlPlaneResolver, type PrismaControlPlaneResolverOptions } from "./prismaResolver.js";
export {
  BoundedTtlCache,
  DEFAULT_CACHE_MAX_ENTRIES,
  DEFAULT_CACHE_TTL_MS,
  type TtlCacheOptions,
  type TtlCacheStats,
} from "./ttlCache.js";
