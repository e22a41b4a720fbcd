import type { MollifierScript } from "./script.js";

/**
 * Acknowledge a drained entry: it now exists in the run store. Keeps the hash for a grace TTL as a
 * read safety net (status MATERIALISED), releases its idempotency lookup (the run store is canonical
 * now) and removes it from the env listing, the draining set and the depth count.
 * KEYS: entry, draining, depth
 * ARGV: root, runId, graceTtlSeconds
 * → 1 acked, 2 already acked, 0 missing
 */
export const ackEntry: MollifierScript = {
  name: "mollifierAckEntry",
  numberOfKeys: 3,
  lua: `
local root, runId = ARGV[1], ARGV[2]
redis.call('ZREM', KEYS[2], runId)
local fields = redis.call('HMGET', KEYS[1], 'status', 'envId', 'idempotencyLookupKey')
local status, envId, lookupSuffix = fields[1], fields[2], fields[3]
if not status then return 0 end
if status == 'MATERIALISED' then return 2 end
if lookupSuffix and lookupSuffix ~= '' and redis.call('GET', root .. lookupSuffix) == runId then
  redis.call('DEL', root .. lookupSuffix)
end
redis.call('HSET', KEYS[1], 'status', 'MATERIALISED', 'leaseUntil', '0')
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
redis.call('ZREM', root .. 'env-index:' .. envId, runId)
redis.call('ZREM', root .. 'delayed:' .. envId, runId)
redis.call('DECR', KEYS[3])
return 1
`,
};
