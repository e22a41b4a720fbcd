import type { MollifierScript } from "./script.js";

/**
 * One stale-sweep step over one shard of the org list.
 * A cycle is `shardCount` steps. Its first step freezes the sorted org list; step i visits the i-th
 * slice of it (ceil(orgs / shardCount) orgs), and for every env of those orgs that still has waiting
 * entries writes the number of entries created before `cutoffMs` into the counts hash (absolute
 * values, HDEL at zero: a repeated step never adds up) and marks the env visited. The last step
 * removes counts of envs not visited during the cycle (they drained completely) and starts over.
 * KEYS: cursor, orgList, orgs, counts, visited
 * ARGV: root, cutoffMs, shardCount
 * → {shard, wrapped (0|1), orgsScanned, envsScanned, staleInShard}
 */
export const sweepShard: MollifierScript = {
  name: "mollifierSweepShard",
  numberOfKeys: 5,
  lua: `
local root, cutoff, shardCount = ARGV[1], ARGV[2], tonumber(ARGV[3])
local shard = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if shard < 0 or shard >= shardCount or shard ~= math.floor(shard) then shard = 0 end

if shard == 0 then
  local orgs = redis.call('SMEMBERS', KEYS[3])
  table.sort(orgs)
  redis.call('DEL', KEYS[2])
  for i = 1, #orgs, 1000 do
    redis.call('RPUSH', KEYS[2], unpack(orgs, i, math.min(i + 999, #orgs)))
  end
end

local total = redis.call('LLEN', KEYS[2])
local size = math.ceil(total / shardCount)
local orgs = {}
if size > 0 then orgs = redis.call('LRANGE', KEYS[2], shard * size, shard * size + size - 1) end

local envsScanned, stale = 0, 0
for _, orgId in ipairs(orgs) do
  for _, envId in ipairs(redis.call('SMEMBERS', root .. 'org-envs:' .. orgId)) do
    envsScanned = envsScanned + 1
    local n = redis.call('ZCOUNT', root .. 'env-index:' .. envId, '-inf', cutoff)
    if n > 0 then
      redis.call('HSET', KEYS[4], envId, n)
    else
      redis.call('HDEL', KEYS[4], envId)
    end
    redis.call('SADD', KEYS[5], envId)
    stale = stale + n
  end
end

local nextShard = shard + 1
local wrapped = 0
if nextShard >= shardCount then
  wrapped = 1
  nextShard = 0
  for _, envId in ipairs(redis.call('HKEYS', KEYS[4])) do
    if redis.call('SISMEMBER', KEYS[5], envId) == 0 then redis.call('HDEL', KEYS[4], envId) end
  end
  redis.call('DEL', KEYS[5])
end
redis.call('SET', KEYS[1], nextShard)
return {shard, wrapped, #orgs, envsScanned, stale}
`,
};
