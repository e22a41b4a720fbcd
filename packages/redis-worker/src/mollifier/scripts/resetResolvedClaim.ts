import type { MollifierScript } from "./script.js";

/**
 * Drop a resolved claim only if it still names the run the caller found expired or failed.
 * KEYS: claim
 * ARGV: expectedRunId
 * → 1 deleted, 0 unchanged
 */
export const resetResolvedClaim: MollifierScript = {
  name: "mollifierResetResolvedClaim",
  numberOfKeys: 1,
  lua: `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`,
};
