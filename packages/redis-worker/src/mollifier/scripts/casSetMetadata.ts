import type { MollifierScript } from "./script.js";

/**
 * Compare-and-set the metadata of a waiting entry against the version the caller read.
 * KEYS: entry
 * ARGV: expectedVersion, metadata, metadataType
 * → {"applied", newVersion} | {"version_conflict", currentVersion} | {"not_found"} | {"busy", status}
 */
export const casSetMetadata: MollifierScript = {
  name: "mollifierCasSetMetadata",
  numberOfKeys: 1,
  lua: `
local fields = redis.call('HMGET', KEYS[1], 'status', 'metadataVersion')
local status, version = fields[1], tonumber(fields[2] or '0')
if not status then return {'not_found'} end
if status ~= 'QUEUED' then return {'busy', status} end
if version ~= tonumber(ARGV[1]) then return {'version_conflict', version} end
redis.call('HSET', KEYS[1], 'patchedMetadata', ARGV[2], 'patchedMetadataType', ARGV[3])
return {'applied', redis.call('HINCRBY', KEYS[1], 'metadataVersion', 1)}
`,
};
