import type { MollifierScript } from "./script.js";

/**
 * The buffered run bound to an idempotency key, healing a binding whose entry is gone.
 * KEYS: lookup
 * ARGV: root
 * → runId or nil
 */
export const lookupIdempotency: MollifierScript = {
  name: "mollifierLookupIdempotency",
  numberOfKeys: 1,
  lua: `
local bound = redis.call('GET', KEYS[1])
if not bound then return nil end
if redis.call('EXISTS', ARGV[1] .. 'entries:' .. bound) == 1 then return bound end
redis.call('DEL', KEYS[1])
return nil
`,
};
