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

  Output: { unflushed entries, outcomes }: outcomes is a string of one character per write, in order:
  'a' accepted, 's' stale, 'r' refused, 'u' undecided. One string, not a reply per write, so a call
  carrying the writes of several jobs is answered in a few bytes that each job reads its slice of.
]]
-- The higher of a known version (nil when none) and a version read from Redis (false when missing).
local function newest(known, version)
  if not version then return known end
  version = tonumber(version)
  if known == nil or version > known then return version end
  return known
end

-- Hash reads and writes go a chunk of fields per call, not one call per write: a call carrying the
-- writes of many jobs then holds Redis a fraction of the time. Chunks stay far below the number of
-- arguments Lua's unpack can pass.
local CHUNK = 500

-- HMGET of `fields` in chunks: the answers in the same order, false for a missing field.
local function hmget(hash, fields)
  local answers = {}
  for first = 1, #fields, CHUNK do
    local got = redis.call('HMGET', hash, unpack(fields, first, math.min(first + CHUNK - 1, #fields)))
    for j = 1, #got do
      answers[first + j - 1] = got[j]
    end
  end
  return answers
end

-- HSET of a flat list of field, value pairs in chunks.
local function hset(hash, pairs)
  for first = 1, #pairs, 2 * CHUNK do
    redis.call('HSET', hash, unpack(pairs, first, math.min(first + 2 * CHUNK - 1, #pairs)))
  end
end

local max = tonumber(ARGV[1])
local unflushed = redis.call('HLEN', KEYS[1]) + redis.call('HLEN', KEYS[3])
local count = (#ARGV - 1) / 4
local keys = {}
for w = 1, count do
  keys[w] = ARGV[4 * w - 2]
end
local pendingBefore = hmget(KEYS[1], keys)
-- A pending version is above its key's flushing and cached ones (it was accepted only above them, and
-- a release makes the cache what was flushing, older still): those are read only for keys not pending.
local notPending = {}
for w = 1, count do
  if not pendingBefore[w] then notPending[#notPending + 1] = keys[w] end
end
local flushing = hmget(KEYS[3], notPending)
local cached = hmget(KEYS[4], notPending)
local olderOf = {}
for j = 1, #notPending do
  olderOf[notPending[j]] = newest(newest(nil, flushing[j]), cached[j])
end

-- The writes in order, as one call per write would see them: a key accepted earlier in this call is
-- pending at that version. Each key's accepted version and value go once into the final HSETs.
local acceptedNow = {}
local slotOf = {}
local versionPairs, valuePairs = {}, {}
local outcomes = {}
local accepted, stale, refused = 0, 0, 0
for w = 1, count do
  local key, version, hintText = keys[w], ARGV[4 * w - 1], ARGV[4 * w + 1]
  local pending = acceptedNow[key] or pendingBefore[w]
  local known = nil
  if pending then
    known = tonumber(pending)
  else
    known = olderOf[key]
  end
  if hintText ~= '' then
    local hint = tonumber(hintText)
    if known == nil or hint > known then known = hint end
  end
  if known == nil then
    outcomes[w] = 'u'
  elseif tonumber(version) <= known then
    stale = stale + 1
    outcomes[w] = 's'
  elseif not pending and unflushed >= max then
    refused = refused + 1
    outcomes[w] = 'r'
  else
    if not pending then unflushed = unflushed + 1 end
    acceptedNow[key] = version
    local slot = slotOf[key]
    if not slot then
      slot = #versionPairs + 1
      slotOf[key] = slot
      versionPairs[slot] = key
      valuePairs[slot] = key
    end
    versionPairs[slot + 1] = version
    valuePairs[slot + 1] = ARGV[4 * w]
    accepted = accepted + 1
    outcomes[w] = 'a'
  end
end
hset(KEYS[1], versionPairs)
hset(KEYS[2], valuePairs)
if accepted > 0 then redis.call('HINCRBY', KEYS[5], 'accepted', accepted) end
if stale > 0 then redis.call('HINCRBY', KEYS[5], 'stale', stale) end
if refused > 0 then redis.call('HINCRBY', KEYS[5], 'backPressured', refused) end
return {unflushed, table.concat(outcomes)}
