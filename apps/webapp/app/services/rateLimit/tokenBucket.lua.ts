/**
 * Token bucket, refilled in steps: every `interval` ms, `refill` tokens are added, up to `size`.
 * KEYS: the bucket hash. ARGV: size, refill, interval (ms), cost.
 * Time is Redis's own clock (TIME), so every webapp instance agrees on it.
 * State: `tokens` and `at` (the start of the current refill interval, ms).
 * Returns { allowed (1|0), remaining, resetAt (ms: when the next refill lands) }.
 */
export const tokenBucketLua = `
local size = tonumber(ARGV[1])
local refill = tonumber(ARGV[2])
local interval = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = size
  at = now
end

local steps = math.floor((now - at) / interval)
if steps > 0 then
  tokens = math.min(size, tokens + steps * refill)
  at = at + steps * interval
end

local allowed = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
end

redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', at)
local missing = size - tokens
local ttl = interval * (math.ceil(missing / refill) + 1)
redis.call('PEXPIRE', KEYS[1], ttl)
return { allowed, tokens, at + interval }
`;
