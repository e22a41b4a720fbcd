import { LUA_NOW_MS, type MollifierScript } from "./script.js";

/**
 * Return entries whose drain lease expired (their drainer died or hung) to the pop end of their
 * queue. A DRAINING entry counts the lost lease as an attempt (so a run that kills its drainer cannot
 * loop forever) and goes back to QUEUED; a DRAINED entry keeps its state so the next pop acks it
 * without replaying. Entries that are gone or already acked just leave the draining set.
 * KEYS: draining, orgs
 * ARGV: root, limit, errorJson
 * → {requeuedCount, drainedPendingAckCount}
 */
export const reclaimExpiredDrains: MollifierScript = {
  name: "mollifierReclaimExpiredDrains",
  numberOfKeys: 2,
  lua: `
local root, limit = ARGV[1], tonumber(ARGV[2])
${LUA_NOW_MS}
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', nowMs, 'LIMIT', 0, limit)
local requeued, pendingAck = 0, 0
for _, runId in ipairs(expired) do
  redis.call('ZREM', KEYS[1], runId)
  local entryKey = root .. 'entries:' .. runId
  local fields = redis.call('HMGET', entryKey, 'status', 'envId', 'orgId', 'leaseUntil')
  local status, envId, orgId = fields[1], fields[2], fields[3]
  if status == 'DRAINING' or status == 'DRAINED' then
    if status == 'DRAINING' then
      redis.call('HINCRBY', entryKey, 'attempts', 1)
      redis.call('HSET', entryKey, 'status', 'QUEUED', 'lastError', ARGV[3])
      requeued = requeued + 1
    else
      pendingAck = pendingAck + 1
    end
    redis.call('HSET', entryKey, 'leaseUntil', '0')
    redis.call('RPUSH', root .. 'queue:' .. envId, runId)
    redis.call('SADD', KEYS[2], orgId)
    redis.call('SADD', root .. 'org-envs:' .. orgId, envId)
  end
end
return {requeued, pendingAck}
`,
};
