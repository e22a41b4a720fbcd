import { commonLua } from "./common.lua.js";

/**
 * KEYS: globals[1..5], placement[6..18]. ARGV: runId, expected JSON, identity (envId, queue, ck),
 * mode 'all' | 'waitpoint'.
 * Frees the run's env/queue/key slots; the message stays in progress. In 'waitpoint' mode (the run
 * blocks) the env slot is always freed, the queue and key slots unless the queue keeps them
 * (`releaseOnWaitpoint` '0' in its meta).
 * Returns 'ok' | 'missing' | 'not_in_progress' | 'stale'.
 */
export const releaseConcurrencyLua =
  commonLua +
  `
local runId = ARGV[1]
local current = redis.call('HGET', messagesKey, runId)
if not current then return 'missing' end
if current ~= ARGV[2] then return 'stale' end
if redis.call('HEXISTS', inflightKey, runId) == 0 then return 'not_in_progress' end
local p = placement(6, 3)
if ARGV[6] == 'waitpoint' and redis.call('HGET', p.queueMeta, 'releaseOnWaitpoint') == '0' then
  redis.call('SREM', p.envRunning, runId)
else
  freeSlots(p, runId)
end
return 'ok'
`;
