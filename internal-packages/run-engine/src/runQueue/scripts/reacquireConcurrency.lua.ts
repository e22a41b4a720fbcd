import { commonLua } from "./common.lua.js";

/**
 * KEYS: globals[1..5], placement[6..18], the key's limit override (KEYS[19], see `keyLimit`).
 * ARGV: runId, expected JSON, identity (envId, queue, ck), force '1'|'0', default env limit.
 * Takes the env/queue/key slots back for an in-progress run, unless a limit is full (without force).
 * Returns 'ok' | 'full' | 'missing' | 'not_in_progress' | 'stale'.
 */
export const reacquireConcurrencyLua =
  commonLua +
  `
local runId = ARGV[1]
local current = redis.call('HGET', messagesKey, runId)
if not current then return 'missing' end
if current ~= ARGV[2] then return 'stale' end
if redis.call('HEXISTS', inflightKey, runId) == 0 then return 'not_in_progress' end
local p = placement(6, 3)
if redis.call('SISMEMBER', p.envRunning, runId) == 1 then return 'ok' end
if ARGV[6] ~= '1' then
  local base, cap = envLimits(p, tonumber(ARGV[7]))
  if redis.call('SCARD', p.envRunning) >= cap then return 'full' end
  local holdsSub = redis.call('SISMEMBER', p.subRunning, runId) == 1
  if not holdsSub and redis.call('SCARD', p.subRunning) >= keyLimit(KEYS[19], queueLimit(p, base), base) then return 'full' end
  if redis.call('SISMEMBER', p.queueRunning, runId) == 0 and not totalHasRoom(p) then return 'full' end
end
redis.call('SADD', p.envRunning, runId)
redis.call('SADD', p.queueRunning, runId)
redis.call('SADD', p.subRunning, runId)
return 'ok'
`;
