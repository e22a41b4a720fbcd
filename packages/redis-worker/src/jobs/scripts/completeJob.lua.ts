/**
 * Deletes a job after a successful run, only if our claim is still the current one (it was not
 * replaced, rescheduled or reclaimed meanwhile). KEYS: due, jobs, attempts, claims, errors.
 * ARGV: id, token. Returns 1 when deleted.
 */
export const completeJobLua = `
local id = ARGV[1]
if redis.call('HGET', KEYS[4], id) ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[1], id)
redis.call('HDEL', KEYS[2], id)
redis.call('HDEL', KEYS[3], id)
redis.call('HDEL', KEYS[4], id)
redis.call('HDEL', KEYS[5], id)
return 1
`;
