/**
 * Key layout of the mollifier buffer. Every key is `<namespace><suffix>`; the namespace defaults to
 * `mollifier:`.
 *
 * Prefix rule (ioredis `keyPrefix` is applied to commands and Lua KEYS, but not to keys a script builds):
 * - keys known before a call travel in KEYS as `namespace + suffix` (ioredis prepends its prefix);
 * - keys that depend on data read inside a script (a popped run id, an entry's env) are built in Lua
 *   as `ARGV[1] .. suffix`, where ARGV[1] is the *root* = client keyPrefix + namespace;
 * - key references stored in values (an entry's `idempotencyLookupKey`) hold the suffix only.
 *
 * | suffix | type | contents |
 * |---|---|---|
 * | `entries:{runId}` | HASH | the entry (see schemas.ts); no TTL while live, grace TTL after ack |
 * | `queue:{envId}` | LIST | ready run ids; accept LPUSH, pop RPOP (FIFO), retry/reclaim RPUSH |
 * | `delayed:{envId}` | ZSET | run ids waiting for their backoff, score = nextAttemptAt (ms) |
 * | `env-index:{envId}` | ZSET | every unacked entry of the env, score = createdAt (ms); listings |
 * | `orgs` | SET | org ids with at least one env holding queued or delayed entries |
 * | `org-envs:{orgId}` | SET | env ids of that org holding queued or delayed entries |
 * | `draining` | ZSET | popped, unacked run ids, score = lease deadline (ms, Redis clock) |
 * | `depth` | STRING | number of unacked entries (queued + delayed + draining) |
 * | `idempotency:{b64u env}:{b64u task}:{b64u key}` | STRING | buffered run id holding that key |
 * | `claim:{b64u env}:{b64u task}:{b64u key}` | STRING | `pending:<token>` or resolved run id; EX ttl |
 * | `rate:{envId}` / `tripped:{envId}` | STRING | trip evaluator counter (PX window) / hold marker (PX hold) |
 * | `sweep:lease` | STRING | stale-sweep lease holder token, PX leaseMs |
 * | `sweep:cursor` / `sweep:orgs` | STRING / LIST | shard cursor / org list frozen for the cycle |
 * | `sweep:counts` / `sweep:visited` | HASH / SET | stale entries per env / envs seen this cycle |
 */
export const DEFAULT_MOLLIFIER_NAMESPACE = "mollifier:";

/** base64url of the UTF-8 bytes: no `:` in the alphabet, so composite keys cannot alias. */
export function b64u(value: string): string {
  return Buffer.from(value, "utf8").toString("base64url");
}

export type IdempotencyTuple = { envId: string; taskIdentifier: string; idempotencyKey: string };

function tupleSuffix(tuple: IdempotencyTuple): string {
  return `${b64u(tuple.envId)}:${b64u(tuple.taskIdentifier)}:${b64u(tuple.idempotencyKey)}`;
}

export const keySuffix = {
  entry: (runId: string) => `entries:${runId}`,
  queue: (envId: string) => `queue:${envId}`,
  delayed: (envId: string) => `delayed:${envId}`,
  envIndex: (envId: string) => `env-index:${envId}`,
  orgs: () => "orgs",
  orgEnvs: (orgId: string) => `org-envs:${orgId}`,
  draining: () => "draining",
  depth: () => "depth",
  idempotencyLookup: (tuple: IdempotencyTuple) => `idempotency:${tupleSuffix(tuple)}`,
  claim: (tuple: IdempotencyTuple) => `claim:${tupleSuffix(tuple)}`,
  rate: (envId: string) => `rate:${envId}`,
  tripped: (envId: string) => `tripped:${envId}`,
  sweepLease: () => "sweep:lease",
  sweepCursor: () => "sweep:cursor",
  sweepOrgs: () => "sweep:orgs",
  sweepCounts: () => "sweep:counts",
  sweepVisited: () => "sweep:visited",
} as const;

/** Logical keys (what ioredis commands take) for one namespace. */
export class MollifierKeys {
  constructor(readonly namespace: string = DEFAULT_MOLLIFIER_NAMESPACE) {}

  key<K extends keyof typeof keySuffix>(name: K, ...args: Parameters<(typeof keySuffix)[K]>): string {
    const build = keySuffix[name] as (...a: unknown[]) => string;
    return this.namespace + build(...args);
  }

  /** Suffix → logical key (for stored references such as an entry's idempotencyLookupKey). */
  fromSuffix(suffix: string): string {
    return this.namespace + suffix;
  }
}

/** The lookup suffix an accepted entry stores, exported for callers that need the same key. */
export function idempotencyLookupKeyFor(tuple: IdempotencyTuple): string {
  return keySuffix.idempotencyLookup(tuple);
}

export function makeIdempotencyClaimKey(tuple: IdempotencyTuple): string {
  return keySuffix.claim(tuple);
}
