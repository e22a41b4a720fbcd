/**
 * Moves an existing job to a new time. A claimed job is released from its claim, so the running copy
 * does not delete it on completion. KEYS: due, jobs, claims. ARGV: id, availableAt. Returns 1 if it existed.
 */
export const rescheduleJobLua = `
local id = ARGV[1]
if redis.call('HEXISTS', KEYS[2], id) == 0 then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], id)
redis.call('HDEL', KEYS[3], id)
return 1
`;
