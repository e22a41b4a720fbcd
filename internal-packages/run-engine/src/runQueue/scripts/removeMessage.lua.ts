import { commonLua } from "./common.lua.js";

/**
 * KEYS: globals[1..5], placement[6..18]. ARGV: runId, expected JSON, identity (envId, queue, ck).
 * Deletes a queued (not in-progress) message. Returns 'ok' | 'missing' | 'in_progress' | 'stale'.
 */
export const removeMessageLua =
  commonLua +
  `
local runId = ARGV[1]
local current = redis.call('HGET', messagesKey, runId)
if not current then return 'missing' end
if current ~= ARGV[2] then return 'stale' end
if redis.call('HEXISTS', inflightKey, runId) == 1 then return 'in_progress' end
detach(placement(6, 3), runId)
redis.call('HDEL', messagesKey, runId)
return 'ok'
`;
