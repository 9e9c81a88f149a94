local n = #KEYS / 2
local ttl = ARGV[1]
local a = 3
local shapes = {}
for s = 1, tonumber(ARGV[2]) do
  local sets, removes = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  local set, names = {}, {}
  for i = 1, sets do
    set[2 * i - 1] = ARGV[a + 1 + i]
    names[i] = ARGV[a + 1 + i]
  end
  local remove = {}
  for i = 1, removes do remove[i] = ARGV[a + 1 + sets + i] end
  shapes[s] = { set = set, sets = sets, names = names, remove = remove }
  a = a + 2 + sets + removes
end
local function failed(r) return type(r) == 'table' and r.err end
local held = redis.call('MGET', unpack(KEYS, n + 1, n + n))
local out, mset, written = {}, {}, {}
for k = 1, n do
  local version, op = ARGV[a], tonumber(ARGV[a + 1])
  local mode = op % 4
  local shape = shapes[(op - mode) / 4]
  local first = a + 2
  if mode == 2 then a = first else a = first + shape.sets end
  local current = held[k]
  if current and current >= version then
    out[k] = 0
  else
    local row, r = KEYS[k], nil
    if mode == 2 then
      if current then
        r = redis.pcall('DEL', row)
      elseif shape.sets > 0 then
        r = redis.pcall('HDEL', row, unpack(shape.names))
      end
      if not failed(r) then r = redis.pcall('SET', KEYS[n + k], version, 'PX', ttl) end
    else
      local replace = mode == 0 and current
      if replace then r = redis.pcall('DEL', row) end
      if shape.sets > 0 and not failed(r) then
        local set = shape.set
        for i = 1, shape.sets do set[2 * i] = ARGV[first + i - 1] end
        r = redis.pcall('HSET', row, unpack(set))
      end
      if #shape.remove > 0 and not replace and not failed(r) then r = redis.pcall('HDEL', row, unpack(shape.remove)) end
      if not failed(r) then
        mset[#mset + 1] = KEYS[n + k]
        mset[#mset + 1] = version
        written[#written + 1] = k
      end
    end
    if failed(r) then out[k] = r.err else out[k] = 1 end
  end
end
if #mset > 0 then
  local r = redis.pcall('MSET', unpack(mset))
  if failed(r) then
    for _, k in ipairs(written) do out[k] = r.err end
  end
end
return out
