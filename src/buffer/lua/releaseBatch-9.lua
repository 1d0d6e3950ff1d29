--[[
  Releases a batch whose transaction has committed: its rows become the cache (unless the cache
  already holds a newer version), the least recently used cached keys beyond the cache's maximum
  are evicted (only cache: pending writes are never touched), the rows PostgreSQL refused go to the
  dead-letter list, and the lease is dropped. A committed transaction ends any back-off of earlier failures. A flush whose
  lease was lost does nothing: the flush that holds it now re-applies the same batch and releases it.

  Input:
    KEYS[1] flushing versions   KEYS[2] flushing values
    KEYS[3] cache versions      KEYS[4] cache values
    KEYS[5] flush lock          KEYS[6] stats           KEYS[7] dead letters
    KEYS[8] flush back-off      KEYS[9] cache access (sorted set: key → last read or write, epoch ms)
    ARGV[1] lease token         ARGV[2] dead-letter list maximum
    ARGV[3] most keys cached    ARGV[4] now, epoch ms
    ARGV    from 5 on, pairs: refused key, its dead-letter record JSON

  Output: the number of rows released to the cache and dead letters, or -1 when the lease was lost.
]]
if redis.call('GET', KEYS[5]) ~= ARGV[1] then
  return -1
end
local refused = 0
for i = 5, #ARGV, 2 do
  redis.call('HDEL', KEYS[1], ARGV[i])
  redis.call('HDEL', KEYS[2], ARGV[i])
  redis.call('LPUSH', KEYS[7], ARGV[i + 1])
  refused = refused + 1
end
if refused > 0 then
  redis.call('LTRIM', KEYS[7], 0, tonumber(ARGV[2]) - 1)
  redis.call('HINCRBY', KEYS[6], 'deadLettered', refused)
end
local versions = redis.call('HGETALL', KEYS[1])
local values = redis.call('HGETALL', KEYS[2])
local valueOf = {}
for i = 1, #values, 2 do
  valueOf[values[i]] = values[i + 1]
end
-- A few calls per chunk of rows, not five per row: a batch of thousands of rows holds Redis for a
-- fraction of the time. Chunks stay far below the number of arguments Lua's unpack can pass.
local CHUNK = 500
for first = 1, #versions, 2 * CHUNK do
  local last = math.min(first + 2 * CHUNK - 1, #versions)
  local fields = {}
  for i = first, last, 2 do
    fields[#fields + 1] = versions[i]
  end
  local cached = redis.call('HMGET', KEYS[3], unpack(fields))
  local newerVersions, newerValues, accessed = {}, {}, {}
  for j = 1, #fields do
    local key, version = fields[j], versions[first + 2 * j - 1]
    if not cached[j] or tonumber(cached[j]) < tonumber(version) then
      newerVersions[#newerVersions + 1] = key
      newerVersions[#newerVersions + 1] = version
      newerValues[#newerValues + 1] = key
      newerValues[#newerValues + 1] = valueOf[key]
    end
    accessed[#accessed + 1] = ARGV[4]
    accessed[#accessed + 1] = key
  end
  if #newerVersions > 0 then
    redis.call('HSET', KEYS[3], unpack(newerVersions))
    redis.call('HSET', KEYS[4], unpack(newerValues))
  end
  redis.call('ZADD', KEYS[9], unpack(accessed))
end
local excess = redis.call('ZCARD', KEYS[9]) - tonumber(ARGV[3])
if excess > 0 then
  local cold = redis.call('ZPOPMIN', KEYS[9], excess)
  for i = 1, #cold, 2 do
    redis.call('HDEL', KEYS[3], cold[i])
    redis.call('HDEL', KEYS[4], cold[i])
  end
end
if #versions > 0 then redis.call('HINCRBY', KEYS[6], 'flushed', #versions / 2) end
redis.call('HSET', KEYS[6], 'flushFailureStreak', 0)
redis.call('DEL', KEYS[1], KEYS[2], KEYS[5], KEYS[8])
return #versions / 2 + refused
