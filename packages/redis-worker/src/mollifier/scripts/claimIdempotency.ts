import type { MollifierScript } from "./script.js";

/**
 * Pre-gate claim of an idempotency key, so concurrent first triggers with one key serialise across
 * both stores. Re-claiming with the same token is idempotent.
 * KEYS: claim
 * ARGV: token, ttlSeconds
 * → {"claimed"} | {"pending"} | {"resolved", runId}
 */
export const claimIdempotency: MollifierScript = {
  name: "mollifierClaimIdempotency",
  numberOfKeys: 1,
  lua: `
local mine = 'pending:' .. ARGV[1]
if redis.call('SET', KEYS[1], mine, 'NX', 'EX', tonumber(ARGV[2])) then return {'claimed'} end
local current = redis.call('GET', KEYS[1])
if current == mine then return {'claimed'} end
if string.sub(current, 1, 8) == 'pending:' then return {'pending'} end
return {'resolved', current}
`,
};
