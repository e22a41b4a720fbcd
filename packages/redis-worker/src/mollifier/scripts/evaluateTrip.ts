import type { MollifierScript } from "./script.js";

/**
 * Per-env trip evaluation: a fixed-window counter shared by every replica, and a hold-down marker
 * refreshed by every over-threshold call (diverting continues for holdMs after the last one).
 * KEYS: rate, tripped
 * ARGV: windowMs, threshold, holdMs
 * → {count, tripped (0|1)}
 */
export const evaluateTrip: MollifierScript = {
  name: "mollifierEvaluateTrip",
  numberOfKeys: 2,
  lua: `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1])) end
if count > tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], '1', 'PX', tonumber(ARGV[3]))
end
return {count, redis.call('EXISTS', KEYS[2])}
`,
};
