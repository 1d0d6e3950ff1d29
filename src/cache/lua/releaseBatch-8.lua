--[[
  Releases a batch whose transaction has committed: its rows become the cache (unless the cache
  already holds a newer version), the rows PostgreSQL refused go to the dead-letter list, and the
  lease is dropped. A committed transaction ends any back-off of earlier failures. A flush whose
  lease was lost does nothing: the flush that holds it now re-applies the same batch and releases it.

  Input:
    KEYS[1] flushing versions   KEYS[2] flushing values
    KEYS[3] cache versions      KEYS[4] cache values
    KEYS[5] flush lock          KEYS[6] stats           KEYS[7] dead letters
    KEYS[8] flush back-off
    ARGV[1] lease token         ARGV[2] dead-letter list maximum
    ARGV    from 3 on, pairs: refused key, its dead-letter record JSON

  Output: the number of rows released to the cache and dead letters, or -1 when the lease was lost.
]]
if redis.call('GET', KEYS[5]) ~= ARGV[1] then
  return -1
end
local refused = 0
for i = 3, #ARGV, 2 do
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
for i = 1, #versions, 2 do
  local cached = redis.call('HGET', KEYS[3], versions[i])
  if not cached or tonumber(cached) < tonumber(versions[i + 1]) then
    redis.call('HSET', KEYS[3], versions[i], versions[i + 1])
    redis.call('HSET', KEYS[4], versions[i], redis.call('HGET', KEYS[2], versions[i]))
  end
end
if #versions > 0 then redis.call('HINCRBY', KEYS[6], 'flushed', #versions / 2) end
redis.call('HSET', KEYS[6], 'flushFailureStreak', 0)
redis.call('DEL', KEYS[1], KEYS[2], KEYS[5], KEYS[8])
return #versions / 2 + refused
