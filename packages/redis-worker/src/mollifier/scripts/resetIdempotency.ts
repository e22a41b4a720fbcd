import type { MollifierScript } from "./script.js";

/**
 * Forget an idempotency key on the buffer side: drop the pre-gate claim and the lookup, and clear the
 * key on the bound entry's snapshot (laid over the payload when it is replayed).
 * KEYS: claim, lookup
 * ARGV: root
 * → cleared runId, or "" when nothing live was bound
 */
export const resetIdempotency: MollifierScript = {
  name: "mollifierResetIdempotency",
  numberOfKeys: 2,
  lua: `
redis.call('DEL', KEYS[1])
local bound = redis.call('GET', KEYS[2])
if not bound then return '' end
redis.call('DEL', KEYS[2])
local entryKey = ARGV[1] .. 'entries:' .. bound
if redis.call('EXISTS', entryKey) == 0 then return '' end
redis.call('HSET', entryKey, 'idempotencyCleared', '1', 'idempotencyLookupKey', '')
return bound
`,
};
