import type { MollifierScript } from "./script.js";

/**
 * Patch the snapshot of a waiting entry (QUEUED, delayed included). Patches are stored in their own
 * hash fields and laid over the payload when it is read, so the payload itself is never re-encoded.
 * A popped entry (DRAINING/DRAINED) or an acked one is "busy": the caller waits for the drain.
 * KEYS: entry
 * ARGV: kind, then per kind:
 *   append_tags    tagsJson, maxTags ("" = no cap)      → {"applied", addedCount} | {"limit_exceeded", mergedCount}
 *   set_metadata   metadata, metadataType               → {"applied", newMetadataVersion}
 *   set_delay      delayUntilIso                        → {"applied"}
 *   mark_cancelled cancelledAtIso, cancelReason ("" = none) → {"applied"}
 * → or {"not_found"} | {"busy", status} | {"unknown_patch"}
 */
export const mutateSnapshot: MollifierScript = {
  name: "mollifierMutateSnapshot",
  numberOfKeys: 1,
  lua: `
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'not_found'} end
if status ~= 'QUEUED' then return {'busy', status} end
local kind = ARGV[1]

if kind == 'append_tags' then
  local okExisting, existing = pcall(cjson.decode, redis.call('HGET', KEYS[1], 'tags') or '[]')
  local okNew, incoming = pcall(cjson.decode, ARGV[2])
  if not okExisting or not okNew then return {'busy', 'undecodable_tags'} end
  local merged, seen, added = {}, {}, 0
  for _, tag in ipairs(existing) do
    if not seen[tag] then seen[tag] = true; merged[#merged + 1] = tag end
  end
  for _, tag in ipairs(incoming) do
    if not seen[tag] then seen[tag] = true; merged[#merged + 1] = tag; added = added + 1 end
  end
  if ARGV[3] ~= '' and #merged > tonumber(ARGV[3]) then return {'limit_exceeded', #merged} end
  if added > 0 then redis.call('HSET', KEYS[1], 'tags', cjson.encode(merged)) end
  return {'applied', added}
end

if kind == 'set_metadata' then
  redis.call('HSET', KEYS[1], 'patchedMetadata', ARGV[2], 'patchedMetadataType', ARGV[3])
  -- bump the version so a compare-and-set that read the old metadata conflicts
  return {'applied', redis.call('HINCRBY', KEYS[1], 'metadataVersion', 1)}
end

if kind == 'set_delay' then
  redis.call('HSET', KEYS[1], 'patchedDelayUntil', ARGV[2])
  return {'applied'}
end

if kind == 'mark_cancelled' then
  redis.call('HSET', KEYS[1], 'cancelledAt', ARGV[2])
  if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'cancelReason', ARGV[3]) end
  return {'applied'}
end

return {'unknown_patch'}
`,
};
