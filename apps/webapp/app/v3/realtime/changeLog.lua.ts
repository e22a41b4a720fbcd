/**
 * The per-environment change log of the realtime feeds. Keys (all under REDIS_KEY_PREFIX):
 * - `meta` hash: `epoch` (random, minted when the log is (re)created), `seq` (the environment's
 *   change counter), `floor` (the highest seq trimmed out of the log: changes at or below it may be
 *   missing, so a reader whose offset is older must refresh the whole shape);
 * - `log` sorted set: member run id, score the seq of its latest change (at most `maxEntries`).
 * Both expire together after `ttlMs` without activity; a log that reappears gets a new epoch, which
 * changes every shape handle, so clients refetch (409) instead of trusting offsets of another epoch.
 */

/** Init the meta hash when missing (drops a stray log of an older epoch). Shared by both scripts. */
const ensureEpoch = `
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then
  epoch = ARGV[2]
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'seq', 0, 'floor', 0)
end
`;

/**
 * Records one change of a set of runs: one new seq for all of them, trims the log, publishes
 * `{epoch, seq, runIds}` on the environment's channel. Atomic, so subscribers never see a seq
 * before the log holds it.
 * KEYS: meta, log. ARGV: channel, epoch candidate, ttl ms, max entries, run ids… Returns {epoch, seq}.
 */
export const recordChangesLua = `${ensureEpoch}
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
local ids = {}
for i = 5, #ARGV do
  redis.call('ZADD', KEYS[2], seq, ARGV[i])
  ids[#ids + 1] = ARGV[i]
end
local max = tonumber(ARGV[4])
local size = redis.call('ZCARD', KEYS[2])
if size > max then
  local cut = size - max
  local last = redis.call('ZRANGE', KEYS[2], cut - 1, cut - 1, 'WITHSCORES')
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, cut - 1)
  if tonumber(last[2]) > tonumber(redis.call('HGET', KEYS[1], 'floor')) then
    redis.call('HSET', KEYS[1], 'floor', last[2])
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('PUBLISH', ARGV[1], cjson.encode({ epoch = epoch, seq = seq, runIds = ids }))
return { epoch, seq }
`;

/**
 * Reads the log position and the runs changed after `since` (up to limit + 1, oldest change first;
 * since < 0 reads none). Creates the epoch when missing and keeps an observed log alive.
 * KEYS: meta, log. ARGV: unused, epoch candidate, ttl ms, since, limit. Returns {epoch, seq, floor, runIds}.
 */
export const readChangesLua = `${ensureEpoch}
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
local seq = redis.call('HGET', KEYS[1], 'seq')
local floor = redis.call('HGET', KEYS[1], 'floor')
local changed = {}
local since = tonumber(ARGV[4])
if since >= 0 then
  changed = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. since, '+inf', 'LIMIT', 0, tonumber(ARGV[5]) + 1)
end
return { epoch, seq, floor, changed }
`;
