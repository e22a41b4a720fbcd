/**
 * Lua shared by the run-queue scripts (prepended to each). Every key arrives in KEYS, built by
 * `RunQueueKeys` in TypeScript, so the connection's keyPrefix applies to all of them.
 *
 * Globals (KEYS[1..5]): messages HASH runId→JSON, inflight HASH runId→"consumer|dequeuedAt",
 * ttl ZSET runId→expiry, rotation sequence STRING, dead-lettered messages HASH runId→JSON.
 *
 * A placement (13 keys, see `RunQueueKeys.placement`) is everything one message touches: the three
 * index levels (envs → env queues → queue sub-queues, each a ZSET scored by the child's earliest
 * message plus a rotation ZSET scored by the last time the child was served), the sub-queue ZSET,
 * the env/queue/sub-queue running SETs, the env and queue meta HASHes and the env DLQ ZSET.
 */
export const commonLua = `
local messagesKey = KEYS[1]
local inflightKey = KEYS[2]
local ttlKey = KEYS[3]
local seqKey = KEYS[4]
local deadKey = KEYS[5]

local function placement(keyBase, argBase)
  return {
    envs = KEYS[keyBase], envsRr = KEYS[keyBase + 1], queues = KEYS[keyBase + 2], queuesRr = KEYS[keyBase + 3],
    envRunning = KEYS[keyBase + 4], envMeta = KEYS[keyBase + 5], queueMeta = KEYS[keyBase + 6],
    queueRunning = KEYS[keyBase + 7], subs = KEYS[keyBase + 8], subsRr = KEYS[keyBase + 9],
    sub = KEYS[keyBase + 10], subRunning = KEYS[keyBase + 11], dlq = KEYS[keyBase + 12],
    envId = ARGV[argBase], queue = ARGV[argBase + 1], ck = ARGV[argBase + 2],
  }
end

local function earliest(key)
  local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return first[2]
end

-- Index member scored by its child's earliest message; a child joining the rotation starts behind
-- everyone served so far; an empty child leaves both.
local function rescore(indexKey, rrKey, member, score)
  if score then
    redis.call('ZADD', indexKey, score, member)
    redis.call('ZADD', rrKey, 'NX', redis.call('GET', seqKey) or 0, member)
  else
    redis.call('ZREM', indexKey, member)
    redis.call('ZREM', rrKey, member)
  end
end

local function refresh(p)
  rescore(p.subs, p.subsRr, p.ck, earliest(p.sub))
  rescore(p.queues, p.queuesRr, p.queue, earliest(p.subs))
  rescore(p.envs, p.envsRr, p.envId, earliest(p.queues))
end

local function freeSlots(p, runId)
  redis.call('SREM', p.envRunning, runId)
  redis.call('SREM', p.queueRunning, runId)
  redis.call('SREM', p.subRunning, runId)
end

-- Takes the run out of its placement entirely (queued position, slots, in-progress record, TTL).
local function detach(p, runId)
  redis.call('ZREM', p.sub, runId)
  freeSlots(p, runId)
  redis.call('HDEL', inflightKey, runId)
  redis.call('ZREM', ttlKey, runId)
  refresh(p)
end

-- Env limits: base (caps queue limits) and burst-adjusted cap (bounds the env total).
local function envLimits(p, defaultLimit)
  local meta = redis.call('HMGET', p.envMeta, 'limit', 'burst', 'paused')
  local base = tonumber(meta[1]) or defaultLimit
  local burst = tonumber(meta[2]) or 1
  return base, math.floor(base * burst), meta[3] == '1'
end

local function queueLimit(p, envBase)
  local meta = redis.call('HMGET', p.queueMeta, 'limit', 'paused')
  local limit = tonumber(meta[1])
  if limit == nil or limit > envBase then limit = envBase end
  return limit, meta[2] == '1'
end

-- One concurrency key's cap: its own override (a STRING that lapses with its PX TTL) or the queue's
-- limit, never above the env base limit.
local function keyLimit(keyLimitKey, queueLimit, envBase)
  local override = tonumber(redis.call('GET', keyLimitKey))
  if override == nil then return queueLimit end
  if override > envBase then return envBase end
  return override
end

-- Whether the queue's total cap (meta 'total': runs of every key at once) leaves room for one more.
local function totalHasRoom(p)
  local total = tonumber(redis.call('HGET', p.queueMeta, 'total'))
  return total == nil or redis.call('SCARD', p.queueRunning) < total
end
`;
