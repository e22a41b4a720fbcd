import { commonLua } from "./common.lua.js";

/**
 * KEYS: globals[1..5], placement[6..18].
 * ARGV: runId, expected JSON, identity (envId, queue, ck), next JSON (attempt + 1, no TTL), retryAt,
 *       dead-letter '1'|'0', now.
 * An in-progress message goes back to its sub-queue at retryAt (or to the DLQ) and frees its slots.
 * Returns 'requeued' | 'dead_lettered' | 'missing' | 'not_in_progress' | 'stale'.
 */
export const nackMessageLua =
  commonLua +
  `
local runId = ARGV[1]
local current = redis.call('HGET', messagesKey, runId)
if not current then return 'missing' end
if current ~= ARGV[2] then return 'stale' end
if redis.call('HEXISTS', inflightKey, runId) == 0 then return 'not_in_progress' end
local p = placement(6, 3)
detach(p, runId)
if ARGV[8] == '1' then
  redis.call('HDEL', messagesKey, runId)
  redis.call('HSET', deadKey, runId, ARGV[6])
  redis.call('ZADD', p.dlq, ARGV[9], runId)
  return 'dead_lettered'
end
redis.call('HSET', messagesKey, runId, ARGV[6])
redis.call('ZADD', p.sub, ARGV[7], runId)
refresh(p)
return 'requeued'
`;
