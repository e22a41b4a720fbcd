import type { MollifierScript } from "./script.js";

/**
 * The claim owner publishes the run id it created, so waiters resolve to it.
 * KEYS: claim
 * ARGV: token, runId, ttlSeconds
 * → 1 published, 0 when the caller no longer owns the claim (expired or taken over)
 */
export const publishClaim: MollifierScript = {
  name: "mollifierPublishClaim",
  numberOfKeys: 1,
  lua: `
if redis.call('GET', KEYS[1]) ~= 'pending:' .. ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', tonumber(ARGV[3]))
return 1
`,
};
