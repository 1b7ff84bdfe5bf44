-- The suggestion on screen and in the buffer: draws an inline completion item as extmark virtual
-- text (the cursor line's new text, then `virt_lines` for the following lines, then a label such
-- as " (2/3)" when there are alternatives) and writes it, or the part of it that the accept-word
-- and accept-line keys take, as one buffer edit. Knows nothing about LSP; positions here are
-- 0-based rows and byte columns. A suggestion is { row, col, end_col, text }: replace
-- [col, end_col) of row with text.
local M = {}

M.namespace = vim.api.nvim_create_namespace('slipstream')

-- 0.10 draws virtual text between characters; before that only over them ('overlay').
local has_inline = vim.fn.has('nvim-0.10') == 1

--- The lines of `text` ("\n" separated; a "\r" before a break is dropped: CRLF suggestions).
function M.lines(text)
  local out, start = {}, 1
  while true do
    local nl = text:find('\n', start, true)
    if not nl then
      out[#out + 1] = text:sub(start)
      return out
    end
    local line = text:sub(start, nl - 1)
    if line:sub(-1) == '\r' then
      line = line:sub(1, -2)
    end
    out[#out + 1] = line
    start = nl + 1
  end
end

local function ends_with(s, suffix)
  return suffix == '' or s:sub(-#suffix) == suffix
end

--- Draws suggestion `s` in `bufnr` with highlight group `hl`, and `label` (may be nil) after it;
--- replaces any drawn before.
function M.show(bufnr, s, hl, label)
  M.clear(bufnr)
  label = label or ''
  local line = vim.api.nvim_buf_get_lines(bufnr, s.row, s.row + 1, true)[1]
  local tail = line:sub(s.col + 1)
  -- What the lines from the cursor on read after accepting: the text, then what stays of the line.
  local lines = M.lines(s.text)
  lines[#lines] = lines[#lines] .. line:sub(s.end_col + 1)
  local opts = { hl_mode = 'combine' }
  local inline = has_inline and #lines == 1 and ends_with(lines[1], tail)
  if inline then
    -- the line keeps its tail: show only what goes in front of it (the label after the tail, below)
    opts.virt_text = { { lines[1]:sub(1, #lines[1] - #tail), hl } }
    opts.virt_text_pos = 'inline'
  else
    -- the label ends the last line; cover the old tail with the new first line, padded with
    -- blanks where that is shorter
    lines[#lines] = lines[#lines] .. label
    local start = vim.fn.strdisplaywidth(line:sub(1, s.col))
    local pad = vim.fn.strdisplaywidth(tail, start) - vim.fn.strdisplaywidth(lines[1], start)
    opts.virt_text = { { lines[1] .. string.rep(' ', math.max(0, pad)), hl } }
    opts.virt_text_pos = 'overlay'
  end
  if #lines > 1 then
    opts.virt_lines = {}
    for i = 2, #lines do
      opts.virt_lines[#opts.virt_lines + 1] = { { lines[i], hl } }
    end
  end
  vim.api.nvim_buf_set_extmark(bufnr, M.namespace, s.row, s.col, opts)
  if inline and label ~= '' then
    vim.api.nvim_buf_set_extmark(bufnr, M.namespace, s.row, #line, { virt_text = { { label, hl } }, virt_text_pos = 'inline' })
  end
end

function M.clear(bufnr)
  if vim.api.nvim_buf_is_valid(bufnr) then
    vim.api.nvim_buf_clear_namespace(bufnr, M.namespace, 0, -1)
  end
end

--- Writes `text` into `bufnr` in place of [col, end_col) of `row`; returns the 0-based row and
--- byte column just after it.
function M.write(bufnr, row, col, end_col, text)
  local lines = M.lines(text)
  vim.api.nvim_buf_set_text(bufnr, row, col, row, end_col, lines)
  local last = lines[#lines]
  if #lines == 1 then
    return row, col + #last
  end
  return row + #lines - 1, #last
end

--- Writes suggestion `s` into `bufnr`; returns the 0-based row and byte column just after it.
function M.apply(bufnr, s)
  return M.write(bufnr, s.row, s.col, s.end_col, s.text)
end

return M
