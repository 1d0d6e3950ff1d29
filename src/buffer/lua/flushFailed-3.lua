--[[
  Records a failed flush transaction (PostgreSQL down, a timeout): drops the lease if it is still
  ours, so the batch can be retried, and sets a back-off before the next scheduled attempt that
  doubles with each failure in a row, up to a maximum. The batch stays in the flushing hashes.
  The back-off lives in Redis, so every conductor sharing the buffer honours it.

  Input:
    KEYS[1] flush lock          KEYS[2] flush back-off  KEYS[3] stats
    ARGV[1] lease token         ARGV[2] first delay in ms
    ARGV[3] longest delay in ms

  Output: { failures in a row, delay in ms before the next attempt }
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
end
redis.call('HINCRBY', KEYS[3], 'flushFailures', 1)
local streak = redis.call('HINCRBY', KEYS[3], 'flushFailureStreak', 1)
local delay = math.floor(math.min(tonumber(ARGV[3]), tonumber(ARGV[2]) * 2 ^ math.min(streak - 1, 30)))
redis.call('SET', KEYS[2], streak, 'PX', delay)
return {streak, delay}
