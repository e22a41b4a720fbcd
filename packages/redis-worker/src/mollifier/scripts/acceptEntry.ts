import type { MollifierScript } from "./script.js";

/**
 * Accept a trigger into the buffer, deduplicating by run id and by idempotency lookup key.
 * KEYS: entry, queue, orgs, orgEnvs, envIndex, depth
 * ARGV: root, runId, envId, orgId, payload, createdAtIso, createdAtMs, lookupSuffix ("" = none), tagsJson
 * → {"accepted"} | {"duplicate_run_id"} | {"duplicate_idempotency", existingRunId}
 */
export const acceptEntry: MollifierScript = {
  name: "mollifierAcceptEntry",
  numberOfKeys: 6,
  lua: `
local root, runId, envId, orgId = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local lookupSuffix = ARGV[8]

if redis.call('EXISTS', KEYS[1]) == 1 then
  return {'duplicate_run_id'}
end

if lookupSuffix ~= '' then
  local lookupKey = root .. lookupSuffix
  local bound = redis.call('GET', lookupKey)
  if bound and bound ~= runId and redis.call('EXISTS', root .. 'entries:' .. bound) == 1 then
    return {'duplicate_idempotency', bound}
  end
  -- unbound, or bound to an entry that is gone (self-heal): this run takes the key
  redis.call('SET', lookupKey, runId)
end

redis.call('HSET', KEYS[1],
  'runId', runId, 'envId', envId, 'orgId', orgId, 'payload', ARGV[5],
  'status', 'QUEUED', 'attempts', '0', 'createdAt', ARGV[6], 'createdAtMs', ARGV[7],
  'nextAttemptAt', '0', 'idempotencyLookupKey', lookupSuffix, 'metadataVersion', '0',
  'tags', ARGV[9], 'leaseId', '0', 'leaseUntil', '0')
redis.call('LPUSH', KEYS[2], runId)
redis.call('SADD', KEYS[3], orgId)
redis.call('SADD', KEYS[4], envId)
redis.call('ZADD', KEYS[5], ARGV[7], runId)
redis.call('INCR', KEYS[6])
return {'accepted'}
`,
};
