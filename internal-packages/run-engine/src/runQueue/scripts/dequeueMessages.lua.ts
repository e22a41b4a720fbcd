import { commonLua } from "./common.lua.js";

/**
 * Moves up to maxCount due messages to in progress, following a plan of candidate environments,
 * queues and sub-queues that TypeScript read from the indexes (in rotation order). Every limit,
 * pause and due time is re-checked here, so a stale plan can only yield less, never too much.
 *
 * KEYS: globals[1..5], envs index, envs rotation, then per env: queues index, queues rotation,
 *       env running, env meta; per queue: queue meta, queue running, subs index, subs rotation;
 *       per sub-queue: sub-queue ZSET, sub running, the key's limit override (STRING with a PX TTL).
 * ARGV: now, maxCount, consumerId, default env limit, env count, then per env: envId, queue count;
 *       per queue: name, sub count; per sub-queue: concurrency key ('' = none).
 *
 * Limits: the env cap; per queue its pause flag and `total` (runs of all its keys at once); per
 * sub-queue the key's own override if it has one (it lapses with its TTL), else the queue's limit.
 *
 * Fairness: rounds; each round takes at most one message per env, from the env's next queue in
 * turn, and from that queue's next sub-queue in turn. Served members move to the back of their
 * rotation ZSET. Returns the message JSONs.
 */
export const dequeueMessagesLua =
  commonLua +
  `
local now = tonumber(ARGV[1])
local maxCount = tonumber(ARGV[2])
local consumer = ARGV[3]
local defaultLimit = tonumber(ARGV[4])
local envsKey, envsRrKey = KEYS[6], KEYS[7]

local envs = {}
local a, k = 6, 8
for i = 1, tonumber(ARGV[5]) do
  local env = { id = ARGV[a], queuesKey = KEYS[k], queuesRrKey = KEYS[k + 1], runningKey = KEYS[k + 2],
    metaKey = KEYS[k + 3], queues = {}, ptr = 1, active = true, served = false }
  local queueCount = tonumber(ARGV[a + 1])
  a, k = a + 2, k + 4
  for j = 1, queueCount do
    local q = { name = ARGV[a], metaKey = KEYS[k], runningKey = KEYS[k + 1], subsKey = KEYS[k + 2],
      subsRrKey = KEYS[k + 3], subs = {}, ptr = 1, active = true, dirty = false }
    local subCount = tonumber(ARGV[a + 1])
    a, k = a + 2, k + 4
    for s = 1, subCount do
      q.subs[s] = { ck = ARGV[a], key = KEYS[k], runningKey = KEYS[k + 1], limitKey = KEYS[k + 2], active = true,
        dirty = false }
      a, k = a + 1, k + 3
    end
    env.queues[j] = q
  end
  envs[i] = env
end

local function loadEnv(env)
  local meta = redis.call('HMGET', env.metaKey, 'limit', 'burst', 'paused')
  env.base = tonumber(meta[1]) or defaultLimit
  env.cap = math.floor(env.base * (tonumber(meta[2]) or 1))
  env.running = redis.call('SCARD', env.runningKey)
  if meta[3] == '1' or env.running >= env.cap then env.active = false end
end

local function loadQueue(env, q)
  local meta = redis.call('HMGET', q.metaKey, 'limit', 'paused', 'total')
  local limit = tonumber(meta[1])
  if limit == nil or limit > env.base then limit = env.base end
  if meta[2] == '1' then q.active = false end
  q.total = tonumber(meta[3])
  q.running = redis.call('SCARD', q.runningKey)
  for _, sub in ipairs(q.subs) do
    sub.running = redis.call('SCARD', sub.runningKey)
    sub.limit = keyLimit(sub.limitKey, limit, env.base)
  end
end

local function takeFromSub(env, q, sub)
  while true do
    if q.total and q.running >= q.total then
      q.active = false
      return nil
    end
    if sub.running >= sub.limit then
      sub.active = false
      return nil
    end
    local head = redis.call('ZRANGEBYSCORE', sub.key, '-inf', now, 'LIMIT', 0, 1)[1]
    if not head then
      sub.active = false
      return nil
    end
    redis.call('ZREM', sub.key, head)
    sub.dirty = true
    q.dirty = true
    local message = redis.call('HGET', messagesKey, head)
    -- A member without a message is debris: dropped. An expired one leaves the sub-queue and stays
    -- queued for popExpiredMessages; it is never handed out.
    if message and redis.call('HEXISTS', inflightKey, head) == 0 then
      local expiry = tonumber(redis.call('ZSCORE', ttlKey, head))
      if not (expiry and expiry <= now) then
        redis.call('HSET', inflightKey, head, consumer .. '|' .. now)
        redis.call('SADD', env.runningKey, head)
        redis.call('SADD', q.runningKey, head)
        redis.call('SADD', sub.runningKey, head)
        redis.call('ZREM', ttlKey, head)
        sub.running = sub.running + 1
        q.running = q.running + 1
        env.running = env.running + 1
        return message
      end
    end
  end
end

local function serve(rrKey, member)
  redis.call('ZADD', rrKey, 'XX', redis.call('INCR', seqKey), member)
end

local function takeFromQueue(env, q)
  local n = #q.subs
  for t = 0, n - 1 do
    local idx = ((q.ptr - 1 + t) % n) + 1
    local sub = q.subs[idx]
    if sub.active then
      local message = takeFromSub(env, q, sub)
      if message then
        q.ptr = (idx % n) + 1
        serve(q.subsRrKey, sub.ck)
        return message
      end
    end
  end
  q.active = false
  return nil
end

local function takeFromEnv(env)
  if env.running >= env.cap then
    env.active = false
    return nil
  end
  local n = #env.queues
  for t = 0, n - 1 do
    local idx = ((env.ptr - 1 + t) % n) + 1
    local q = env.queues[idx]
    if q.active then
      local message = takeFromQueue(env, q)
      if message then
        env.ptr = (idx % n) + 1
        serve(env.queuesRrKey, q.name)
        serve(envsRrKey, env.id)
        return message
      end
    end
  end
  env.active = false
  return nil
end

for _, env in ipairs(envs) do
  loadEnv(env)
  if env.active then
    for _, q in ipairs(env.queues) do loadQueue(env, q) end
  end
end

local taken = {}
while #taken < maxCount do
  local progress = false
  for _, env in ipairs(envs) do
    if #taken >= maxCount then break end
    if env.active then
      local message = takeFromEnv(env)
      if message then
        taken[#taken + 1] = message
        progress = true
      end
    end
  end
  if not progress then break end
end

for _, env in ipairs(envs) do
  local envDirty = false
  for _, q in ipairs(env.queues) do
    if q.dirty then
      for _, sub in ipairs(q.subs) do
        if sub.dirty then rescore(q.subsKey, q.subsRrKey, sub.ck, earliest(sub.key)) end
      end
      rescore(env.queuesKey, env.queuesRrKey, q.name, earliest(q.subsKey))
      envDirty = true
    end
  end
  if envDirty then rescore(envsKey, envsRrKey, env.id, earliest(env.queuesKey)) end
end

return taken
`;
