import { ConfigurationError } from "@runplane/core";
import { createRedisClient } from "@runplane/redis-worker/redis";
import type { Redis } from "ioredis";
import { fingerprintDatabase, type FingerprintProbe } from "~/v3/runOpsMigration/databaseFingerprint.server";

/**
 * One deployment per Redis keyspace. Two deployments with their own databases but one Redis and the
 * same REDIS_KEY_PREFIX would pop each other's buffered triggers and queue messages and write them
 * into the wrong database. At boot a deployment claims its prefix with the identity of its
 * control-plane database; a prefix claimed by another database refuses the boot.
 */
export class KeyspaceClaimedError extends ConfigurationError {
  constructor(message: string) {
    super("redis_keyspace_claimed", message);
  }
}

export function keyspaceClaimKey(keyPrefix: string): string {
  return `${keyPrefix}deployment:control-plane`;
}

/**
 * Claims `keyPrefix` in `redis` for the database at `databaseUrl` (SET NX GET: one atomic command),
 * or throws KeyspaceClaimedError naming REDIS_KEY_PREFIX when another database holds it. Restarts of
 * the same deployment find their own claim and pass.
 */
export async function claimRedisKeyspace(options: {
  redis: Redis;
  keyPrefix: string;
  databaseUrl: string;
  /** Which Redis this is, for the message (REDIS_URL or MOLLIFIER_REDIS_URL). */
  redisVariable: string;
  probe?: FingerprintProbe;
}): Promise<void> {
  const fingerprint = await (options.probe ?? fingerprintDatabase)(options.databaseUrl);
  const identity = `${fingerprint.systemIdentifier}/${fingerprint.databaseName}/${fingerprint.databaseOid}`;
  const key = keyspaceClaimKey(options.keyPrefix);
  const holder = await options.redis.set(key, identity, "NX", "GET");
  if (holder === null || holder === identity) return;
  const prefix = options.keyPrefix === "" ? "the empty REDIS_KEY_PREFIX" : `REDIS_KEY_PREFIX "${options.keyPrefix}"`;
  throw new KeyspaceClaimedError(
    `${prefix} in ${options.redisVariable} belongs to another deployment (control-plane database ${holder}; this one is ${identity}). ` +
      `Two deployments sharing one keyspace would drain and run each other's triggers into the wrong database. ` +
      `Give each deployment its own REDIS_KEY_PREFIX (or Redis). If this deployment's database really moved, delete the key "${key}" and start again.`
  );
}

/** Claims the main Redis and, when the buffer has its own (MOLLIFIER_REDIS_URL), that one too. */
export async function claimDeploymentKeyspaces(options: {
  redis: Redis;
  redisUrl: string;
  mollifierRedisUrl: string;
  keyPrefix: string;
  databaseUrl: string;
}): Promise<void> {
  await claimRedisKeyspace({ redis: options.redis, keyPrefix: options.keyPrefix, databaseUrl: options.databaseUrl, redisVariable: "REDIS_URL" });
  if (options.mollifierRedisUrl === options.redisUrl) return;
  const bufferRedis = createRedisClient(options.mollifierRedisUrl, "runplane-keyspace-claim");
  try {
    await claimRedisKeyspace({ redis: bufferRedis, keyPrefix: options.keyPrefix, databaseUrl: options.databaseUrl, redisVariable: "MOLLIFIER_REDIS_URL" });
  } finally {
    bufferRedis.disconnect();
  }
}
