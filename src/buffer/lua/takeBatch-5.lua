--[[
  Takes the next batch to flush and the flush lease. A batch left by a failed or crashed flush is
  taken again, whole, before anything newer: the version-guarded upsert makes re-applying it harmless.
  Otherwise up to ARGV[3] pending writes move to the flushing hashes; writes accepted from now on
  stay pending for the next flush.

  Input:
    KEYS[1] pending versions    KEYS[2] pending values
    KEYS[3] flushing versions   KEYS[4] flushing values
    KEYS[5] flush lock
    ARGV[1] lease token         ARGV[2] lease in ms      ARGV[3] batch maximum

  Output: false when another flush holds the lease; otherwise { retried, key, version, value JSON, ... }
  with retried 1 for a batch left by an earlier flush, and no rows (the lease dropped) when there is
  nothing to flush.
]]
if not redis.call('SET', KEYS[5], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return false
end
local retried = redis.call('EXISTS', KEYS[3])
if retried == 0 then
  local size = redis.call('HLEN', KEYS[1])
  local max = tonumber(ARGV[3])
  if size == 0 then
    redis.call('DEL', KEYS[5])
    return {0}
  elseif size <= max then
    redis.call('RENAME', KEYS[1], KEYS[3])
    redis.call('RENAME', KEYS[2], KEYS[4])
  else
    local moved, cursor = 0, '0'
    repeat
      local page = redis.call('HSCAN', KEYS[1], cursor, 'COUNT', 1000)
      cursor = page[1]
      local fields = page[2]
      -- HSCAN may return a field twice: HEXISTS skips one already moved.
      for i = 1, #fields, 2 do
        if moved < max and redis.call('HEXISTS', KEYS[1], fields[i]) == 1 then
          redis.call('HSET', KEYS[3], fields[i], fields[i + 1])
          redis.call('HSET', KEYS[4], fields[i], redis.call('HGET', KEYS[2], fields[i]))
          redis.call('HDEL', KEYS[1], fields[i])
          redis.call('HDEL', KEYS[2], fields[i])
          moved = moved + 1
        end
      end
    until cursor == '0' or moved >= max
  end
end
-- Two HGETALLs, not a HGET per row: a batch of thousands of rows holds Redis for a fraction of the time.
local versions = redis.call('HGETALL', KEYS[3])
local values = redis.call('HGETALL', KEYS[4])
local valueOf = {}
for i = 1, #values, 2 do
  valueOf[values[i]] = values[i + 1]
end
local batch = {retried}
for i = 1, #versions, 2 do
  batch[#batch + 1] = versions[i]
  batch[#batch + 1] = versions[i + 1]
  batch[#batch + 1] = valueOf[versions[i]] or false
end
return batch
