import type { MollifierScript } from "./script.js";

/**
 * Take or renew a lease (the stale sweep's: one sweeper at a time across instances).
 * KEYS: lease
 * ARGV: token, ttlMs
 * → 1 held by the caller (taken or renewed), 0 held by someone else
 */
export const acquireLease: MollifierScript = {
  name: "mollifierAcquireLease",
  numberOfKeys: 1,
  lua: `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
  return 1
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', tonumber(ARGV[2])) then return 1 end
return 0
`,
};
