/** Compare-and-delete: removes each key still holding our token. KEYS: lock keys. ARGV: token. Returns the count. */
export const releaseLockLua = `
local released = 0
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then
    redis.call('DEL', KEYS[i])
    released = released + 1
  end
end
return released
`;
