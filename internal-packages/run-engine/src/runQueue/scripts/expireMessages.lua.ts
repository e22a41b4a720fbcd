import { commonLua } from "./common.lua.js";

/**
 * KEYS: globals[1..5], then one placement (13 keys) per candidate that had a message when read.
 * ARGV: now, n, then per candidate: runId, expected JSON|'', has placement '1'|'0',
 *       and identity (envId, queue, ck) when it has one.
 * Deletes each candidate still queued, unchanged and past its TTL; drops TTL entries of runs that
 * are gone or in progress. Returns the deleted run ids.
 */
export const expireMessagesLua =
  commonLua +
  `
local now = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local a = 3
local k = 6
local removed = {}
for i = 1, n do
  local runId, expected, hasPlacement = ARGV[a], ARGV[a + 1], ARGV[a + 2]
  local current = redis.call('HGET', messagesKey, runId)
  if (not current) or redis.call('HEXISTS', inflightKey, runId) == 1 then
    redis.call('ZREM', ttlKey, runId)
  elseif hasPlacement == '1' and current == expected then
    local expiry = tonumber(redis.call('ZSCORE', ttlKey, runId))
    if expiry and expiry <= now then
      detach(placement(k, a + 3), runId)
      redis.call('HDEL', messagesKey, runId)
      removed[#removed + 1] = runId
    end
  end
  if hasPlacement == '1' then
    k = k + 13
    a = a + 6
  else
    a = a + 3
  end
end
return removed
`;
