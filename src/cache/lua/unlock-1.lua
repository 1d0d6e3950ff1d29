--[[
  Drops a flush lease after a failed transaction, if it is still ours, so the next flush retries the
  batch at once instead of waiting for the lease to expire.

  Input:
    KEYS[1] flush lock
    ARGV[1] lease token

  Output: 1 when dropped, 0 when the lease was no longer ours.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
