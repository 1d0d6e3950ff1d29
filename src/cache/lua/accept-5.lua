--[[
  Accepts versioned writes into the pending buffer. The script is atomic, so two workers accepting
  writes of one key in any order can never let the older version win.

  Input:
    KEYS[1] pending versions    KEYS[2] pending values
    KEYS[3] flushing versions   KEYS[4] cache versions
    KEYS[5] stats
    ARGV[1] most keys unflushed (pending and flushing entries together, PENDING_MAX_KEYS)
    ARGV    from 2 on, groups of four: key, version, value JSON, stored-version hint ('' when none)

  A write is accepted only when its version is higher than the pending, flushing and cached version
  of its key and than the hint (the version PostgreSQL held, -1 for no row). When none of these is
  known the write is left undecided: the caller reads PostgreSQL and calls again with a hint.

  Back-pressure: a write that would add a pending entry while ARGV[1] entries are unflushed is
  refused, and nothing of it is kept. A write of a key already pending replaces its entry in place,
  so it is accepted however full the buffer is: the buffer does not grow, and the newest value wins.

  Output: { accepted, stale, refused, unflushed entries, index of each undecided write (0-based)... }
]]
local max = tonumber(ARGV[1])
local unflushed = redis.call('HLEN', KEYS[1]) + redis.call('HLEN', KEYS[3])
local result = {0, 0, 0, 0}
local accepted, stale, refused = 0, 0, 0
for i = 2, #ARGV, 4 do
  local key = ARGV[i]
  -- HGET answers false, not nil, for a missing field.
  local pending = redis.call('HGET', KEYS[1], key)
  local known = nil
  if pending then known = tonumber(pending) end
  for _, versions in ipairs({KEYS[3], KEYS[4]}) do
    local version = redis.call('HGET', versions, key)
    if version then
      version = tonumber(version)
      if known == nil or version > known then known = version end
    end
  end
  if ARGV[i + 3] ~= '' then
    local hint = tonumber(ARGV[i + 3])
    if known == nil or hint > known then known = hint end
  end
  if known == nil then
    result[#result + 1] = (i - 2) / 4
  elseif tonumber(ARGV[i + 1]) <= known then
    stale = stale + 1
  elseif not pending and unflushed >= max then
    refused = refused + 1
  else
    if not pending then unflushed = unflushed + 1 end
    redis.call('HSET', KEYS[1], key, ARGV[i + 1])
    redis.call('HSET', KEYS[2], key, ARGV[i + 2])
    accepted = accepted + 1
  end
end
if accepted > 0 then redis.call('HINCRBY', KEYS[5], 'accepted', accepted) end
if stale > 0 then redis.call('HINCRBY', KEYS[5], 'stale', stale) end
if refused > 0 then redis.call('HINCRBY', KEYS[5], 'backPressured', refused) end
result[1] = accepted
result[2] = stale
result[3] = refused
result[4] = unflushed
return result
