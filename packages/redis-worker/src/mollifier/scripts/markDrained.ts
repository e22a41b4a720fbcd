import type { MollifierScript } from "./script.js";

/**
 * Record that the handler succeeded, before the ack. If the ack is then lost (failure, crash), the
 * entry is reclaimed in state DRAINED and the next pop acks it without a second replay. A holder
 * whose lease was reclaimed but not yet re-popped (QUEUED, same lease id) may still record it.
 * KEYS: entry
 * ARGV: leaseId
 * → 1 recorded (or already recorded), 0 when missing, acked, or leased to another holder
 */
export const markDrained: MollifierScript = {
  name: "mollifierMarkDrained",
  numberOfKeys: 1,
  lua: `
local fields = redis.call('HMGET', KEYS[1], 'status', 'leaseId')
local status, leaseId = fields[1], fields[2]
if status == 'DRAINED' then return 1 end
if status == 'DRAINING' or (status == 'QUEUED' and leaseId == ARGV[1] and leaseId ~= '0') then
  redis.call('HSET', KEYS[1], 'status', 'DRAINED')
  return 1
end
return 0
`,
};
