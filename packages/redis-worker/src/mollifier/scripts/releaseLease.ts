import type { MollifierScript } from "./script.js";

/**
 * Give a lease up if the caller still holds it (compare-and-delete).
 * KEYS: lease
 * ARGV: token
 * → 1 released, 0 not the holder
 */
export const releaseLease: MollifierScript = {
  name: "mollifierReleaseLease",
  numberOfKeys: 1,
  lua: `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`,
};
