--[[
  The id of a queue's newest event, where a new reader of its events stream starts so that it sees
  every event from the moment of the call ('$' would start from whenever its first XREAD runs).

  Input:
    KEYS[1] the queue's events stream

  Output:
    the newest entry's id, or '0-0' for an empty stream
]]
local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
if newest then return newest[1] end
return '0-0'
