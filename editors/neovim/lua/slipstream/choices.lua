-- The suggestions offered at one cursor position and which of them is on screen, for cycling
-- through alternatives (the next / previous keys). Pure data, no Neovim calls: a suggestion is
-- ghost.lua's table ({ row, col, end_col, text, ... }); two are the same when they replace the
-- same range with the same text, and a set never holds the same one twice.
local M = {}

local function same(a, b)
  return a.text == b.text and a.end_col == b.end_col
end

local function has(offered, s)
  for _, t in ipairs(offered.list) do
    if same(s, t) then
      return true
    end
  end
  return false
end

--- Adds the suggestions of `list` that `offered` lacks, after its own; returns how many it added.
function M.add(offered, list)
  local added = 0
  for _, s in ipairs(list) do
    if not has(offered, s) then
      offered.list[#offered.list + 1] = s
      added = added + 1
    end
  end
  return added
end

--- A set of the suggestions in `list` (at least one), the first on screen. `complete`: they are
--- all the server offers here (an invoked request's answer), so there is nothing more to ask for.
function M.new(list, complete)
  local offered = { list = {}, index = 1, complete = complete }
  M.add(offered, list)
  return offered
end

--- The suggestion on screen.
function M.current(offered)
  return offered.list[offered.index]
end

--- Moves `step` (1: next, -1: previous) round the list; returns the suggestion then on screen.
function M.move(offered, step)
  offered.index = (offered.index - 1 + step) % #offered.list + 1
  return M.current(offered)
end

--- Which one is on screen, ' (2/3)', while there are several; '' otherwise.
function M.label(offered)
  if #offered.list < 2 then
    return ''
  end
  return string.format(' (%d/%d)', offered.index, #offered.list)
end

return M
