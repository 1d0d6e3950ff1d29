--[[
  Reads the newest accepted value of one key: pending first, then the batch being flushed, then
  the cache of what PostgreSQL holds. A cache hit records the read time, so eviction takes the
  coldest keys (pending and flushing writes are never evicted, and need no record).

  Input:
    KEYS[1] pending versions    KEYS[2] pending values
    KEYS[3] flushing versions   KEYS[4] flushing values
    KEYS[5] cache versions      KEYS[6] cache values
    KEYS[7] cache access (sorted set: key → last read or write, epoch ms)
    ARGV[1] key                 ARGV[2] now, epoch ms

  Output: { source, version, value JSON } with source 'pending' or 'cache'; nil when Redis has no
  trace of the key.
]]
local places = {{KEYS[1], KEYS[2], 'pending'}, {KEYS[3], KEYS[4], 'pending'}, {KEYS[5], KEYS[6], 'cache'}}
for _, place in ipairs(places) do
  local version = redis.call('HGET', place[1], ARGV[1])
  if version then
    if place[3] == 'cache' then redis.call('ZADD', KEYS[7], ARGV[2], ARGV[1]) end
    return {place[3], version, redis.call('HGET', place[2], ARGV[1])}
  end
end
return nil
