/**
 * Records a failed run under our claim: schedule the retry, or dead-letter it.
 * KEYS: due, jobs, attempts, claims, errors, dlq LIST.
 * ARGV: id, token, error, retryAt, dead-letter '1'|'0', now, DLQ length cap.
 * Returns 'retry' | 'dead' | 'stale' (our claim is no longer current: nothing changed).
 */
export const failJobLua = `
local id = ARGV[1]
if redis.call('HGET', KEYS[4], id) ~= ARGV[2] then return 'stale' end
if ARGV[5] == '1' then
  local data = redis.call('HGET', KEYS[2], id)
  local attempts = redis.call('HGET', KEYS[3], id) or '0'
  redis.call('LPUSH', KEYS[6], '{"id":' .. cjson.encode(id) .. ',"attempts":' .. attempts ..
    ',"error":' .. cjson.encode(ARGV[3]) .. ',"failedAt":' .. ARGV[6] .. ',"data":' .. data .. '}')
  redis.call('LTRIM', KEYS[6], 0, tonumber(ARGV[7]) - 1)
  redis.call('ZREM', KEYS[1], id)
  redis.call('HDEL', KEYS[2], id)
  redis.call('HDEL', KEYS[3], id)
  redis.call('HDEL', KEYS[4], id)
  redis.call('HDEL', KEYS[5], id)
  return 'dead'
end
redis.call('ZADD', KEYS[1], ARGV[4], id)
redis.call('HDEL', KEYS[4], id)
redis.call('HSET', KEYS[5], id, ARGV[3])
return 'retry'
`;
