/**
 * Pushes out the expiry of every key still holding our token. KEYS: lock keys. ARGV: token, lifetime ms.
 * Returns 1 when all were ours, else 0 (the lock was lost; the keys that are still ours are extended).
 */
export const extendLockLua = `
local all = 1
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then
    redis.call('PEXPIRE', KEYS[i], ARGV[2])
  else
    all = 0
  end
end
return all
`;
