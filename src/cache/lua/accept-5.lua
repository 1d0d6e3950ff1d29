--[[
  Accepts versioned writes into the pending buffer. The script is atomic, so two workers accepting
  writes of one key in any order can never let the older version win.

  Input:
    KEYS[1] pending versions    KEYS[2] pending values
    KEYS[3] flushing versions   KEYS[4] cache versions
    KEYS[5] stats
    ARGV    groups of four: key, version, value JSON, stored-version hint ('' when none)

  A write is accepted only when its version is higher than the pending, flushing and cached version
  of its key and than the hint (the version PostgreSQL held, -1 for no row). When none of these is
  known the write is left undecided: the caller reads PostgreSQL and calls again with a hint.

  Output: { accepted, stale, index of each undecided write (0-based)... }
]]
local result = {0, 0}
local accepted, stale = 0, 0
for i = 1, #ARGV, 4 do
  local key = ARGV[i]
  local known = nil
  for _, versions in ipairs({KEYS[1], KEYS[3], KEYS[4]}) do
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
    result[#result + 1] = (i - 1) / 4
  elseif tonumber(ARGV[i + 1]) > known then
    redis.call('HSET', KEYS[1], key, ARGV[i + 1])
    redis.call('HSET', KEYS[2], key, ARGV[i + 2])
    accepted = accepted + 1
  else
    stale = stale + 1
  end
end
if accepted > 0 then redis.call('HINCRBY', KEYS[5], 'accepted', accepted) end
if stale > 0 then redis.call('HINCRBY', KEYS[5], 'stale', stale) end
result[1] = accepted
result[2] = stale
return result
