/**
 * All-or-nothing acquisition of several lock keys. KEYS: lock keys. ARGV: token, lifetime ms.
 * A key already holding our token counts as ours. Returns 1 when every key is now ours, else 0.
 */
export const acquireLockLua = `
for i = 1, #KEYS do
  local owner = redis.call('GET', KEYS[i])
  if owner and owner ~= ARGV[1] then return 0 end
end
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[2])
end
return 1
`;
