-- Column conversions between Neovim byte columns and LSP `character` offsets in the position
-- encoding the server negotiated (utf-8, utf-16 or utf-32; docs/protocol.md, "Position
-- encoding"). Own code rather than vim.str_utfindex/str_byteindex, whose signatures changed in
-- Neovim 0.11. Columns are 0-based; a byte that does not start a valid sequence counts as one unit.
local M = {}

-- Length in bytes of the UTF-8 sequence whose first byte is `b`.
local function sequence_length(b)
  if b >= 0xF0 and b < 0xF8 then
    return 4
  elseif b >= 0xE0 then
    return b < 0xF0 and 3 or 1
  elseif b >= 0xC0 then
    return 2
  end
  return 1
end

-- Code units one character of `n` UTF-8 bytes takes in `encoding`.
local function units(n, encoding)
  if encoding == 'utf-16' and n == 4 then
    return 2
  end
  return 1
end

--- The LSP character offset of byte column `col` in `line`.
function M.character(line, col, encoding)
  if encoding == 'utf-8' then
    return col
  end
  local count, i = 0, 1
  while i <= col and i <= #line do
    local n = sequence_length(line:byte(i))
    count = count + units(n, encoding)
    i = i + n
  end
  return count
end

--- The byte column of LSP character offset `character` in `line`, at most the line's length.
function M.byte_col(line, character, encoding)
  if encoding == 'utf-8' then
    return math.min(character, #line)
  end
  local count, i = 0, 1
  while i <= #line and count < character do
    local n = sequence_length(line:byte(i))
    count = count + units(n, encoding)
    i = i + n
  end
  return math.min(i - 1, #line)
end

return M
