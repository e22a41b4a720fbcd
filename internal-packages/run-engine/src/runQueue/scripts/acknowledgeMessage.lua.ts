import { commonLua } from "./common.lua.js";

/**
 * KEYS: globals[1..5], placement[6..18]. ARGV: runId, expected JSON, identity (envId, queue, ck).
 * Removes the message wherever it is and frees its slots. Returns 'ok' | 'missing' | 'stale'.
 */
export const acknowledgeMessageLua =
  commonLua +
  `
local runId = ARGV[1]
local current = redis.call('HGET', messagesKey, runId)
if not current then return 'missing' end
if current ~= ARGV[2] then return 'stale' end
detach(placement(6, 3), runId)
redis.call('HDEL', messagesKey, runId)
return 'ok'
`;
