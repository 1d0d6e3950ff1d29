--[[
  Fills a cache with rows read from PostgreSQL (or views committed), never moving a key's cached
  version backwards (a flush may have released a newer version since the rows were read), then
  evicts the least recently used keys beyond the cache's maximum.

  Input:
    KEYS[1] cache versions      KEYS[2] cache values
    KEYS[3] cache access (sorted set: key → last read or write, epoch ms)
    ARGV[1] most keys cached    ARGV[2] now, epoch ms
    ARGV    from 3 on, groups of three: key, version, value JSON

  Output: the number of keys cached.
]]
local cached = 0
for i = 3, #ARGV, 3 do
  local current = redis.call('HGET', KEYS[1], ARGV[i])
  if not current or tonumber(current) < tonumber(ARGV[i + 1]) then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
    redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 2])
    cached = cached + 1
  end
  redis.call('ZADD', KEYS[3], ARGV[2], ARGV[i])
end
local excess = redis.call('ZCARD', KEYS[3]) - tonumber(ARGV[1])
if excess > 0 then
  local cold = redis.call('ZPOPMIN', KEYS[3], excess)
  for i = 1, #cold, 2 do
    redis.call('HDEL', KEYS[1], cold[i])
    redis.call('HDEL', KEYS[2], cold[i])
  end
end
return cached
