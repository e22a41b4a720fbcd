import { commonLua } from "./common.lua.js";

/**
 * A blocked run's waitpoints completed: it takes its slots back before it resumes.
 *
 * KEYS: globals[1..5], placement[6..18], the key's limit override (KEYS[19], see `keyLimit`).
 * ARGV: runId, expected JSON, identity (envId, queue, ck), default env limit, continue score.
 * In progress and every limit has room (env cap, the key's limit and the queue's total for slots it does not hold):
 * takes the slots, 'ok'. Otherwise the message goes back to its sub-queue at the continue score
 * (ahead of every new run there) without slots: 'queued'; a dequeue later hands it out with its
 * slots like any message. Already queued: 'queued'.
 * Returns 'ok' | 'queued' | 'missing' | 'stale'.
 */
export const continueMessageLua =
  commonLua +
  `
local runId = ARGV[1]
local current = redis.call('HGET', messagesKey, runId)
if not current then return 'missing' end
if current ~= ARGV[2] then return 'stale' end
local p = placement(6, 3)
if redis.call('HEXISTS', inflightKey, runId) == 0 then
  if redis.call('ZSCORE', p.sub, runId) then return 'queued' end
  return 'missing'
end
local holdsEnv = redis.call('SISMEMBER', p.envRunning, runId) == 1
local holdsSub = redis.call('SISMEMBER', p.subRunning, runId) == 1
local holdsQueue = redis.call('SISMEMBER', p.queueRunning, runId) == 1
local base, cap = envLimits(p, tonumber(ARGV[6]))
local fits = holdsEnv or redis.call('SCARD', p.envRunning) < cap
if fits and not holdsSub then
  fits = redis.call('SCARD', p.subRunning) < keyLimit(KEYS[19], queueLimit(p, base), base)
end
if fits and not holdsQueue then fits = totalHasRoom(p) end
if fits then
  redis.call('SADD', p.envRunning, runId)
  redis.call('SADD', p.queueRunning, runId)
  redis.call('SADD', p.subRunning, runId)
  return 'ok'
end
freeSlots(p, runId)
redis.call('HDEL', inflightKey, runId)
redis.call('ZREM', ttlKey, runId)
redis.call('ZADD', p.sub, ARGV[7], runId)
refresh(p)
return 'queued'
`;
