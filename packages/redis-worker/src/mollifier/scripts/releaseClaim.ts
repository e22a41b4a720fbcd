import type { MollifierScript } from "./script.js";

/**
 * Compare-and-delete of a pending claim: a late release (after the claim expired and someone else
 * claimed the key) cannot erase the new owner's claim.
 * KEYS: claim
 * ARGV: token
 * → 1 released, 0 not the owner
 */
export const releaseClaim: MollifierScript = {
  name: "mollifierReleaseClaim",
  numberOfKeys: 1,
  lua: `
if redis.call('GET', KEYS[1]) ~= 'pending:' .. ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`,
};
