import { LUA_NOW_MS, type MollifierScript } from "./script.js";

/**
 * Pop the next ready entry of one env and lease it to the caller.
 * First promotes delayed entries whose backoff has elapsed (earliest first, ahead of fresh entries),
 * then RPOPs until it finds a live entry: QUEUED → DRAINING, or DRAINED (a handler already succeeded
 * and the ack was lost) which is returned as is so the caller acks without replaying. References
 * whose entry is gone or already materialised are discarded (never recreated as partial hashes).
 * When the env has nothing queued or delayed left it leaves the rotation sets.
 * KEYS: queue, delayed, orgEnvs, orgs, draining
 * ARGV: root, envId, orgId, leaseMs, promoteLimit
 * → flat HGETALL of the entry, or nil
 */
export const popEntry: MollifierScript = {
  name: "mollifierPopEntry",
  numberOfKeys: 5,
  lua: `
local root, envId, orgId = ARGV[1], ARGV[2], ARGV[3]
local leaseMs, promoteLimit = tonumber(ARGV[4]), tonumber(ARGV[5])
${LUA_NOW_MS}
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', nowMs, 'LIMIT', 0, promoteLimit)
for i = #due, 1, -1 do
  redis.call('RPUSH', KEYS[1], due[i])
  redis.call('ZREM', KEYS[2], due[i])
end

local result = nil
while true do
  local runId = redis.call('RPOP', KEYS[1])
  if not runId then break end
  local entryKey = root .. 'entries:' .. runId
  local status = redis.call('HGET', entryKey, 'status')
  if status == 'QUEUED' or status == 'DRAINED' then
    local leaseUntil = nowMs + leaseMs
    if status == 'QUEUED' then
      redis.call('HSET', entryKey, 'status', 'DRAINING')
    end
    redis.call('HINCRBY', entryKey, 'leaseId', 1)
    redis.call('HSET', entryKey, 'leaseUntil', string.format('%.0f', leaseUntil))
    redis.call('ZADD', KEYS[5], leaseUntil, runId)
    result = redis.call('HGETALL', entryKey)
    break
  end
  -- orphan reference (entry deleted/expired) or a stale duplicate: drop it and keep going
end

if redis.call('LLEN', KEYS[1]) == 0 and redis.call('ZCARD', KEYS[2]) == 0 then
  redis.call('SREM', KEYS[3], envId)
  if redis.call('SCARD', KEYS[3]) == 0 then
    redis.call('SREM', KEYS[4], orgId)
  end
end
return result
`,
};
