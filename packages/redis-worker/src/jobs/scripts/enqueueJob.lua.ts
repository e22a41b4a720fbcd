/**
 * KEYS: due ZSET, jobs HASH, attempts HASH, claims HASH, errors HASH.
 * ARGV: id, job JSON, availableAt, once '1'|'0'.
 * Writes a fresh job (attempts and any claim reset, so a running copy cannot delete it on completion).
 * With once, an existing job is kept. Returns 1 when written, 0 when kept.
 */
export const enqueueJobLua = `
local id = ARGV[1]
if ARGV[4] == '1' and redis.call('HEXISTS', KEYS[2], id) == 1 then return 0 end
redis.call('HSET', KEYS[2], id, ARGV[2])
redis.call('ZADD', KEYS[1], ARGV[3], id)
redis.call('HDEL', KEYS[3], id)
redis.call('HDEL', KEYS[4], id)
redis.call('HDEL', KEYS[5], id)
return 1
`;
