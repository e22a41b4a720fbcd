/**
 * Cancels a job whether due, waiting or claimed. KEYS: due, jobs, attempts, claims, errors. ARGV: id.
 * Returns 1 when it existed.
 */
export const ackJobLua = `
local id = ARGV[1]
local existed = redis.call('HDEL', KEYS[2], id)
redis.call('ZREM', KEYS[1], id)
redis.call('HDEL', KEYS[3], id)
redis.call('HDEL', KEYS[4], id)
redis.call('HDEL', KEYS[5], id)
return existed
`;
