--[[
  Fills the cache with rows read from PostgreSQL, never moving a key's cached version backwards
  (a flush may have released a newer version since the rows were read).

  Input:
    KEYS[1] cache versions      KEYS[2] cache values
    ARGV    groups of three: key, version, value JSON

  Output: the number of keys cached.
]]
local cached = 0
for i = 1, #ARGV, 3 do
  local current = redis.call('HGET', KEYS[1], ARGV[i])
  if not current or tonumber(current) < tonumber(ARGV[i + 1]) then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
    redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 2])
    cached = cached + 1
  end
end
return cached
