import { commonLua } from "./common.lua.js";

/**
 * KEYS: globals[1..5], placement[6..18]. ARGV: runId, expected JSON, identity (envId, queue, ck).
 * Frees the run's env/queue/key slots; the message stays in progress.
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
freeSlots(placement(6, 3), runId)
return 'ok'
`;
