import type { MollifierScript } from "./script.js";

/**
 * Terminal failure: tear the entry down (the caller has written whatever terminal record it needs).
 * Releases its idempotency lookup, listing, delay and draining membership and its depth count.
 * Queue references left behind are discarded by pop.
 * KEYS: entry, draining, depth
 * ARGV: root, runId, leaseId ("" = any holder)
 * → "failed" | "not_found" | "lease_lost"
 */
export const failEntry: MollifierScript = {
  name: "mollifierFailEntry",
  numberOfKeys: 3,
  lua: `
local root, runId = ARGV[1], ARGV[2]
local fields = redis.call('HMGET', KEYS[1], 'status', 'envId', 'idempotencyLookupKey', 'leaseId')
local status, envId, lookupSuffix, leaseId = fields[1], fields[2], fields[3], fields[4]
if not status then
  redis.call('ZREM', KEYS[2], runId)
  return 'not_found'
end
-- a holder that lost its lease (reclaimed, maybe re-popped) must not tear the entry down
if ARGV[3] ~= '' and (status ~= 'DRAINING' or ARGV[3] ~= leaseId) then return 'lease_lost' end
if lookupSuffix and lookupSuffix ~= '' and redis.call('GET', root .. lookupSuffix) == runId then
  redis.call('DEL', root .. lookupSuffix)
end
redis.call('ZREM', root .. 'env-index:' .. envId, runId)
redis.call('ZREM', root .. 'delayed:' .. envId, runId)
redis.call('ZREM', KEYS[2], runId)
if status ~= 'MATERIALISED' then redis.call('DECR', KEYS[3]) end
redis.call('DEL', KEYS[1])
return 'failed'
`,
};
