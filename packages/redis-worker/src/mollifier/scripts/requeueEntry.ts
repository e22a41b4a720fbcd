import { LUA_NOW_MS, type MollifierScript } from "./script.js";

/**
 * Give a leased entry back after a retryable failure: attempts + 1, status QUEUED, and not poppable
 * before nextAttemptAt = now + delayMs (Redis clock). With delayMs 0 it goes to the pop end of the
 * queue at once (retry priority). createdAt never changes.
 * KEYS: entry, draining, orgs
 * ARGV: root, runId, delayMs, leaseId ("" = any holder), errorJson ("" = keep)
 * → {"requeued", attempts, nextAttemptAt} | {"not_found"} | {"not_draining", status} | {"lease_lost"}
 */
export const requeueEntry: MollifierScript = {
  name: "mollifierRequeueEntry",
  numberOfKeys: 3,
  lua: `
local root, runId, delayMs = ARGV[1], ARGV[2], tonumber(ARGV[3])
local fields = redis.call('HMGET', KEYS[1], 'status', 'envId', 'orgId', 'leaseId')
local status, envId, orgId, leaseId = fields[1], fields[2], fields[3], fields[4]
if not status then
  redis.call('ZREM', KEYS[2], runId)
  return {'not_found'}
end
if status ~= 'DRAINING' then return {'not_draining', status} end
if ARGV[4] ~= '' and ARGV[4] ~= leaseId then return {'lease_lost'} end
${LUA_NOW_MS}
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
local nextAt = nowMs
if delayMs > 0 then nextAt = nowMs + delayMs end
redis.call('HSET', KEYS[1], 'status', 'QUEUED', 'leaseUntil', '0',
  'nextAttemptAt', string.format('%.0f', nextAt))
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'lastError', ARGV[5]) end
if delayMs > 0 then
  redis.call('ZADD', root .. 'delayed:' .. envId, nextAt, runId)
else
  redis.call('RPUSH', root .. 'queue:' .. envId, runId)
end
redis.call('SADD', KEYS[3], orgId)
redis.call('SADD', root .. 'org-envs:' .. orgId, envId)
redis.call('ZREM', KEYS[2], runId)
return {'requeued', attempts, string.format('%.0f', nextAt)}
`,
};
