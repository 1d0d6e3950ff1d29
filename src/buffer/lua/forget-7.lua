--[[
  Forgets keys whose entity is gone (the usage of a deleted deployable): pending, flushing and cached
  versions and values, so that no later flush writes them back, and their cache access record.

  Input:
    KEYS[1] pending versions    KEYS[2] pending values
    KEYS[3] flushing versions   KEYS[4] flushing values
    KEYS[5] cache versions      KEYS[6] cache values
    KEYS[7] cache access
    ARGV    the keys

  Output: the number of keys that were pending.
]]
local pending = 0
for _, key in ipairs(ARGV) do
  pending = pending + redis.call('HDEL', KEYS[1], key)
  redis.call('HDEL', KEYS[2], key)
  for i = 3, 6 do
    redis.call('HDEL', KEYS[i], key)
  end
  redis.call('ZREM', KEYS[7], key)
end
return pending
