import { commonLua } from "./common.lua.js";

/**
 * KEYS: globals[1..5], new placement[6..18], (replace only) old placement[19..31].
 * ARGV: runId, message JSON, score, ttlExpiresAt|'', replace '1'|'0', expected old JSON|'',
 *       new identity (envId, queue, ck), old identity (envId, queue, ck) when an old placement is given.
 * Returns 'enqueued' | 'replaced' | 'duplicate' | 'stale' (old message changed since it was read: retry).
 */
export const enqueueMessageLua =
  commonLua +
  `
local runId = ARGV[1]
local existing = redis.call('HGET', messagesKey, runId)
if existing then
  if ARGV[5] ~= '1' then return 'duplicate' end
  if existing ~= ARGV[6] or #KEYS < 31 then return 'stale' end
  detach(placement(19, 10), runId)
end
local p = placement(6, 7)
redis.call('HSET', messagesKey, runId, ARGV[2])
redis.call('ZADD', p.sub, ARGV[3], runId)
if ARGV[4] ~= '' then redis.call('ZADD', ttlKey, ARGV[4], runId) end
refresh(p)
if existing then return 'replaced' end
return 'enqueued'
`;
