/**
 * Claims up to `count` due jobs: each becomes invisible until now + its visibility timeout and gets a
 * claim token; its attempt counter grows. A job whose earlier claims all lapsed (worker died) past its
 * attempt limit is dead-lettered instead of handed out.
 * KEYS: due, jobs, attempts, claims, errors, dlq LIST.
 * ARGV: now, count, token prefix, default visibility ms, default max attempts,
 *       JSON {job: visibility ms}, JSON {job: max attempts}, DLQ length cap.
 * Returns a flat list: id, job JSON, attempt, token, ...
 */
export const claimJobsLua = `
local now = tonumber(ARGV[1])
local visibilityByJob = cjson.decode(ARGV[6])
local maxAttemptsByJob = cjson.decode(ARGV[7])
local claimed = {}
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(ids) do
  local data = redis.call('HGET', KEYS[2], id)
  if not data then
    redis.call('ZREM', KEYS[1], id)
  else
    local job = cjson.decode(data).job
    local attempt = redis.call('HINCRBY', KEYS[3], id, 1)
    local maxAttempts = tonumber(maxAttemptsByJob[job]) or tonumber(ARGV[5])
    if attempt > maxAttempts then
      local lastError = redis.call('HGET', KEYS[5], id) or 'visibility timeout elapsed without completion'
      redis.call('LPUSH', KEYS[6], '{"id":' .. cjson.encode(id) .. ',"attempts":' .. (attempt - 1) ..
        ',"error":' .. cjson.encode(lastError) .. ',"failedAt":' .. now .. ',"data":' .. data .. '}')
      redis.call('LTRIM', KEYS[6], 0, tonumber(ARGV[8]) - 1)
      redis.call('ZREM', KEYS[1], id)
      redis.call('HDEL', KEYS[2], id)
      redis.call('HDEL', KEYS[3], id)
      redis.call('HDEL', KEYS[4], id)
      redis.call('HDEL', KEYS[5], id)
    else
      local token = ARGV[3] .. ':' .. attempt
      local visibility = tonumber(visibilityByJob[job]) or tonumber(ARGV[4])
      redis.call('HSET', KEYS[4], id, token)
      redis.call('ZADD', KEYS[1], now + visibility, id)
      claimed[#claimed + 1] = id
      claimed[#claimed + 1] = data
      claimed[#claimed + 1] = attempt
      claimed[#claimed + 1] = token
    end
  end
end
return claimed
`;
