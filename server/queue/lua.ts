/**
 * The Lua scripts of RedisQueueStore. Each runs atomically in Redis, so nodes that tick, join and leave the same
 * event at once can never admit past `maxActive` nor give an account two places. All keys of one event carry the
 * hash tag `{event:<id>}` (one Redis Cluster slot), in this order:
 * KEYS[1] lobby (zset uid → draw), KEYS[2] waiting (zset uid → ticket), KEYS[3] active (zset uid → window end),
 * KEYS[4] done (hash uid → reason), KEYS[5] meta (hash: drawn, seq, head, admitted, allowance, allowanceAt),
 * KEYS[6] admission log (zset "seq:uid:until" → seq).
 * Time comes from the caller (ARGV[1]) so the node's injectable clock rules, as it does for holds.
 */

/** Shared head of the scripts that need the line drawn: ARGV[1] now, ARGV[2] sale start. */
const PRELUDE = `
local now = tonumber(ARGV[1])
local saleStart = tonumber(ARGV[2])
local function ensureDrawn()
  if redis.call('HGET', KEYS[5], 'drawn') == '1' or now < saleStart then return end
  -- The sale started: the lobby becomes tickets 1..N in draw order (random), then later arrivals queue behind.
  local members = redis.call('ZRANGE', KEYS[1], 0, -1)
  local seq = tonumber(redis.call('HGET', KEYS[5], 'seq') or '0')
  for i = 1, #members, 500 do
    local args = {}
    for j = i, math.min(i + 499, #members) do
      seq = seq + 1
      args[#args + 1] = seq
      args[#args + 1] = members[j]
    end
    redis.call('ZADD', KEYS[2], unpack(args))
  end
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[5], 'drawn', '1', 'seq', seq, 'allowance', 1, 'allowanceAt', now)
end
local function expireOne(uid)
  local u = redis.call('ZSCORE', KEYS[3], uid)
  if u and tonumber(u) <= now then
    redis.call('ZREM', KEYS[3], uid)
    redis.call('HSET', KEYS[4], uid, 'expired')
  end
end
local function place(uid)
  local u = redis.call('ZSCORE', KEYS[3], uid)
  if u then return {'admitted', u} end
  local t = redis.call('ZSCORE', KEYS[2], uid)
  if t then return {'waiting', t} end
  if redis.call('ZSCORE', KEYS[1], uid) then return {'lobby', '0'} end
  local r = redis.call('HGET', KEYS[4], uid)
  if r then return {'done', r} end
  return {'none', '0'}
end
local function totals()
  local m = redis.call('HMGET', KEYS[5], 'head', 'admitted', 'drawn')
  return {m[1] or '0', redis.call('ZCARD', KEYS[2]), redis.call('ZCARD', KEYS[1]), redis.call('ZCARD', KEYS[3]), m[2] or '0', m[3] or '0'}
end
`;

/** ARGV: now, saleStart, uid, draw. Returns {state, value, head, waiting, lobby, active, admitted, drawn}. */
export const JOIN = `${PRELUDE}
local uid = ARGV[3]
ensureDrawn()
expireOne(uid)
local p = place(uid)
if p[1] == 'none' or p[1] == 'done' then
  redis.call('HDEL', KEYS[4], uid)
  if redis.call('HGET', KEYS[5], 'drawn') ~= '1' then
    redis.call('ZADD', KEYS[1], ARGV[4], uid)
  else
    redis.call('ZADD', KEYS[2], redis.call('HINCRBY', KEYS[5], 'seq', 1), uid)
  end
  p = place(uid)
end
local t = totals()
return {p[1], p[2], t[1], t[2], t[3], t[4], t[5], t[6]}
`;

/** ARGV: now, saleStart, uid. Same reply as JOIN. */
export const STATUS = `${PRELUDE}
local uid = ARGV[3]
ensureDrawn()
expireOne(uid)
local p = place(uid)
local t = totals()
return {p[1], p[2], t[1], t[2], t[3], t[4], t[5], t[6]}
`;

/** ARGV: uid, reason. Returns 1 when the account was admitted (its slot frees). */
export const LEAVE = `
local uid = ARGV[1]
local wasActive = redis.call('ZREM', KEYS[3], uid)
local n = redis.call('ZREM', KEYS[1], uid) + redis.call('ZREM', KEYS[2], uid) + wasActive
if n > 0 then redis.call('HSET', KEYS[4], uid, ARGV[2]) end
return wasActive
`;

/**
 * ARGV: now, saleStart, maxActive (-1: none), admitPerMinute (-1: none), windowMs, sinceSeq (-1: this call's own),
 * logMax, logRead, ttlMs. Returns {admittedNow, expiredNow, head, waiting, lobby, active, admitted, drawn, log...}.
 */
export const TICK = `${PRELUDE}
ensureDrawn()
local before = tonumber(redis.call('HGET', KEYS[5], 'admitted') or '0')
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)
for _, uid in ipairs(expired) do redis.call('HSET', KEYS[4], uid, 'expired') end
if #expired > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now) end
local drawn = redis.call('HGET', KEYS[5], 'drawn') == '1'
local room = 0
if drawn then room = redis.call('ZCARD', KEYS[2]) end
local maxActive = tonumber(ARGV[3])
local perMin = tonumber(ARGV[4])
if maxActive >= 0 then room = math.min(room, math.max(0, maxActive - redis.call('ZCARD', KEYS[3]))) end
local allowance = nil
local allowanceAt = now
if perMin >= 0 and drawn then
  -- A token bucket: perMin/60000 admissions accrue per ms, at most two seconds' worth when nobody waits.
  local a = redis.call('HMGET', KEYS[5], 'allowance', 'allowanceAt')
  local at = tonumber(a[2] or now) or now
  -- Nodes' ticks arrive out of order: time only moves forward for the bucket.
  allowanceAt = math.max(at, now)
  allowance = math.min(math.max(1, perMin / 30), (tonumber(a[1] or '0') or 0) + math.max(0, now - at) * perMin / 60000)
  room = math.min(room, math.floor(allowance))
end
local admittedNow = 0
if room > 0 then
  local popped = redis.call('ZPOPMIN', KEYS[2], room)
  local untilMs = now + tonumber(ARGV[5])
  local total = tonumber(redis.call('HGET', KEYS[5], 'admitted') or '0')
  for i = 1, #popped, 2 do
    redis.call('ZADD', KEYS[3], untilMs, popped[i])
    total = total + 1
    redis.call('ZADD', KEYS[6], total, string.format('%d:%s:%d', total, popped[i], untilMs))
    redis.call('HSET', KEYS[5], 'head', popped[i + 1])
    admittedNow = admittedNow + 1
  end
  redis.call('HSET', KEYS[5], 'admitted', total)
  local n = redis.call('ZCARD', KEYS[6])
  local logMax = tonumber(ARGV[7])
  if n > logMax then redis.call('ZREMRANGEBYRANK', KEYS[6], 0, n - logMax - 1) end
end
if allowance then redis.call('HSET', KEYS[5], 'allowance', tostring(allowance - admittedNow), 'allowanceAt', allowanceAt) end
-- A line nobody ticks any more (queue switched off, event over) leaves Redis on its own.
for i = 1, 6 do redis.call('PEXPIRE', KEYS[i], ARGV[9]) end
local sinceSeq = tonumber(ARGV[6])
if sinceSeq < 0 then sinceSeq = before end
local t = totals()
local out = {admittedNow, #expired, t[1], t[2], t[3], t[4], t[5], t[6]}
local log = redis.call('ZRANGEBYSCORE', KEYS[6], '(' .. sinceSeq, '+inf', 'LIMIT', 0, tonumber(ARGV[8]))
for _, e in ipairs(log) do out[#out + 1] = e end
return out
`;
