/**
 * Take or renew the scheduler's lease: one holder at a time across webapp instances.
 * KEYS: the lease key. ARGV: holder token, ttl (ms).
 * Returns 1 when the caller holds it (taken or renewed), 0 when another instance does.
 */
export const acquireSchedulerLeaseLua = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
  return 1
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', tonumber(ARGV[2])) then return 1 end
return 0
`;

/**
 * Give the lease up if the caller still holds it (compare-and-delete).
 * KEYS: the lease key. ARGV: holder token. Returns 1 released, 0 not the holder.
 */
export const releaseSchedulerLeaseLua = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`;
