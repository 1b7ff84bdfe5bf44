-- Slipstream for Neovim: asks the Slipstream language server for `textDocument/inlineCompletion`
-- through Neovim's own LSP client while you type in Insert mode, shows the answer as virtual text,
-- cycles through alternatives on the next / previous keys (asking the server for them with an
-- invoked request when it has not yet, or for a suggestion when none is shown), writes the
-- suggestion shown into the buffer on the accept key (or its next word or line on the accept-word
-- and accept-line keys, the rest staying on screen), and drops it all (cancelling a request in
-- flight) on the next keystroke; when the server says the whole suggestion behind an early (time
-- budget) answer is ready (slipstream/suggestionFinished), asks again there and shows it in place
-- of the part shown. Suggestions can be turned off for all of this Neovim, for one
-- buffer or for filetypes (the documents stay in sync with the server), and limited to the trigger
-- and next / previous keys (auto_trigger = false). Setup and options: editors/neovim/README.md.
-- Not a completion menu source.
local lsp = require('slipstream.lsp')
local encoding = require('slipstream.encoding')
local ghost = require('slipstream.ghost')
local choices = require('slipstream.choices')
local partial = require('slipstream.partial')
local report = require('slipstream.report')

local M = {}

local defaults = {
  -- the server command: anything that speaks LSP on stdio (a later `serve --stdio --connect` too)
  cmd = { 'slipstream', 'serve', '--stdio' },
  cmd_cwd = nil,
  cmd_env = nil,
  -- workspace root sent to the server; nil: the current directory when setup() runs
  root_dir = nil,
  -- nil: suggestions in every buffer that has a file name; a list ({ 'lua', 'python' }): attach only
  -- to buffers of these filetypes; a map ({ ['*'] = true, markdown = false }): attach to every
  -- buffer with a file name, suggestions where the filetype's own entry, else '*', else true says
  filetypes = nil,
  -- false: ask only on the trigger and next / previous keys, never while typing
  auto_trigger = true,
  -- slipstream.* server settings (docs/configuration.md), e.g. { completion = { maxTokens = 64 } }:
  -- sent as initializationOptions and answered to workspace/configuration
  settings = {},
  -- further initializationOptions, merged over `settings`
  init_options = {},
  -- milliseconds without typing before a request (the server adds its own adaptive debounce)
  debounce_ms = 50,
  -- Insert-mode keys; false disables one. Without a suggestion a key does what it did before,
  -- except next / prev, which then ask for one. next / prev: the next or previous alternative
  -- (the first press asks the server for them). accept_word / accept_line: write the suggestion
  -- up to the end of its next word / line and keep the rest on screen (unbound by default).
  keys = {
    accept = '<C-l>',
    dismiss = '<C-]>',
    trigger = '<M-\\>',
    next = '<M-]>',
    prev = '<M-[>',
    accept_word = false,
    accept_line = false,
  },
  -- also accept with <Tab> while a suggestion is shown
  tab_accept = false,
  highlight = 'SlipstreamSuggestion',
}

local config = nil
local root_dir = nil
local state = {
  client_id = nil,
  timer = nil,
  -- the request in flight: { id, bufnr, tick, row, col, kind, step, version, position }; step: a
  -- request for alternatives, to show the one `step` (1 or -1) away from the suggestion shown when
  -- it answers; version and position: the document version and LSP position it was sent for
  pending = nil,
  -- the suggestions at the cursor, one of them shown (choices.lua); each is
  -- { bufnr, tick, row, col, end_col, text, item }; `asked`: the request they answer (none after
  -- a partial accept)
  offered = nil,
  -- how the last request ended: { outcome = 'shown'|'empty'|'stale'|'off'|'error', code?,
  -- message? } ('off': suggestions were turned off in its buffer while it was in flight)
  last = nil,
  -- where the plugin's own edit of a partial accept left the buffer and cursor: { bufnr, tick,
  -- row, col }; the TextChangedI / CursorMovedI it causes is not the user typing
  own_edit = nil,
}

local function emit(name)
  if vim.fn.exists('#User#' .. name) == 1 then
    vim.api.nvim_exec_autocmds('User', { pattern = name, modeline = false })
  end
end

local function dict(t)
  return next(t) == nil and vim.empty_dict() or t
end

local function client()
  local c = state.client_id and vim.lsp.get_client_by_id(state.client_id)
  if c and c.initialized then
    return c
  end
  return nil
end

local function in_insert_mode()
  return vim.api.nvim_get_mode().mode:sub(1, 1) == 'i'
end

-- A switch variable's value as Lua or Vimscript sets it (false / v:false / 0 are off, nil unset).
local function flag(v)
  if v == nil or v == vim.NIL then
    return nil
  end
  return v ~= false and v ~= 0
end

-- `filetypes` in map form ({ ['*'] = true, markdown = false }) rather than a list: it has a key
-- other than 1..n. A map's list entries count as `true`.
local function filetype_map()
  local fts = config.filetypes
  if type(fts) ~= 'table' then
    return nil
  end
  for k in pairs(fts) do
    if type(k) ~= 'number' then
      return fts
    end
  end
  return nil
end

-- Whether the filetype map (if `filetypes` is one) lets `ft` have suggestions: its own entry,
-- else '*', else on.
local function filetype_on(ft)
  local fts = filetype_map()
  if not fts then
    return true
  end
  local v = flag(fts[ft])
  if v == nil and vim.tbl_contains(fts, ft) then
    v = true
  end
  if v == nil then
    v = flag(fts['*'])
  end
  return v ~= false
end

local function buffer_number(bufnr)
  return (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
end

-- Whether the switches let buffer `bufnr` have suggestions (buffer variable, else filetype),
-- leaving the global one aside: true, or false and why ('buffer' or 'filetype').
local function buffer_on(bufnr)
  local b = flag(vim.b[bufnr].slipstream_enabled)
  if b ~= nil then
    return b, not b and 'buffer' or nil
  end
  if not filetype_on(vim.bo[bufnr].filetype) then
    return false, 'filetype'
  end
  return true
end

--- Whether the plugin asks for suggestions in buffer `bufnr` (nil or 0: the current one): true,
--- or false and why: 'global' (:SlipstreamDisable, g:slipstream_enabled), 'buffer'
--- (b:slipstream_enabled, :SlipstreamDisable!) or 'filetype' (the `filetypes` map). The global
--- switch wins, then the buffer's, then the filetype's. Attachment aside (see `state().attached`).
function M.enabled(bufnr)
  bufnr = buffer_number(bufnr)
  if flag(vim.g.slipstream_enabled) == false then
    return false, 'global'
  end
  return buffer_on(bufnr)
end

local function stop_timer()
  if state.timer then
    vim.fn.timer_stop(state.timer)
    state.timer = nil
  end
end

local function cancel_pending()
  local p = state.pending
  state.pending = nil
  local c = client()
  if p and p.id and c then
    lsp.cancel(c, p.id)
  end
end

--- Removes the suggestion shown (and its alternatives), cancels the request in flight and the
--- debounce timer.
function M.clear()
  state.own_edit = nil
  stop_timer()
  cancel_pending()
  local offered = state.offered
  state.offered = nil
  if offered then
    ghost.clear(choices.current(offered).bufnr)
    emit('SlipstreamCleared')
  end
end

local function finish(outcome, err)
  state.last = { outcome = outcome, code = err and err.code, message = err and err.message }
  emit('SlipstreamResponse')
end

-- Draws the suggestion on screen and tells the server (unless `quiet`: it was shown before);
-- `outcome`: it answers a request.
local function display(outcome, quiet)
  local s = choices.current(state.offered)
  ghost.show(s.bufnr, s, config.highlight, choices.label(state.offered))
  local c = client()
  if c and not quiet then
    lsp.notify(c, 'textDocument/didShowCompletion', { item = s.item })
  end
  if outcome then
    finish(outcome)
  end
  emit('SlipstreamShown')
end

-- Whether the buffer, its text, the cursor or the mode changed since request `p` was sent.
local function moved_since(p)
  local cursor = vim.api.nvim_win_get_cursor(0)
  return vim.api.nvim_get_current_buf() ~= p.bufnr or vim.api.nvim_buf_get_changedtick(p.bufnr) ~= p.tick
    or cursor[1] - 1 ~= p.row or cursor[2] ~= p.col or not in_insert_mode()
end

-- The byte column where `item`'s range ends in `line`, the cursor line of request `p`; nil when
-- the range does not start at the cursor or leaves its line.
local function end_col_of(p, item, line)
  if not item.range then
    return p.col
  end
  local c = client()
  local enc = c and c.offset_encoding or 'utf-16'
  local start, stop = item.range.start, item.range['end']
  -- the server's ranges start at the cursor and end on its line (docs/protocol.md)
  if start.line ~= p.row or stop.line ~= p.row or encoding.byte_col(line, start.character, enc) ~= p.col then
    return nil
  end
  return math.max(p.col, encoding.byte_col(line, stop.character, enc))
end

-- The suggestions in `result`, the answer to request `p` (items without text left out); or nil,
-- the outcome ('empty', 'stale' or 'error') and the error.
local function suggestions_of(p, result)
  local items = {}
  for _, item in ipairs(type(result) == 'table' and (result.items or result) or {}) do
    if type(item.insertText) == 'string' and item.insertText ~= '' then
      items[#items + 1] = item
    end
  end
  if #items == 0 then
    return nil, 'empty'
  end
  if moved_since(p) then
    return nil, 'stale'
  end
  local line = vim.api.nvim_buf_get_lines(p.bufnr, p.row, p.row + 1, true)[1]
  local list = {}
  for _, item in ipairs(items) do
    local end_col = end_col_of(p, item, line)
    if not end_col then
      return nil, 'error', { message = 'range does not start at the cursor' }
    end
    list[#list + 1] = { bufnr = p.bufnr, tick = p.tick, row = p.row, col = p.col, end_col = end_col, text = item.insertText, item = item }
  end
  return list
end

-- The answer to a request for alternatives of the suggestion shown: adds those not yet offered
-- and shows the one `p.step` away; the suggestion shown stays when there is none.
local function on_alternatives(p, list, outcome, err)
  local offered = state.offered
  if not offered then
    return finish('stale')
  end
  if not list then
    -- nothing to add (but an error may pass: ask again on the next press)
    offered.complete = outcome ~= 'error'
    return finish(outcome, err)
  end
  offered.complete = true
  if choices.add(offered, list) == 0 then
    return finish('empty')
  end
  choices.move(offered, p.step)
  display('shown')
end

local function on_response(p, err, result)
  if state.pending ~= p then
    return -- cancelled or superseded by a newer keystroke
  end
  state.pending = nil
  if vim.api.nvim_buf_is_valid(p.bufnr) and not M.enabled(p.bufnr) then
    -- turned off by its variable while in flight (the commands cancel at once)
    return finish('off')
  end
  local list, outcome, problem = nil, 'error', err
  if not err then
    list, outcome, problem = suggestions_of(p, result)
  end
  if p.step then
    return on_alternatives(p, list, outcome, problem)
  end
  if not list then
    return finish(outcome, problem)
  end
  -- an invoked request's answer holds all the server offers here
  state.offered = choices.new(list, p.kind == 1)
  state.offered.asked = p
  display('shown')
end

-- Asks for suggestions at the cursor (`trigger_kind` 2 automatic, 1 invoked); `step` (1 or -1):
-- for alternatives of the suggestion shown.
local function request(bufnr, trigger_kind, step)
  local c = client()
  if not c or not vim.lsp.buf_is_attached(bufnr, c.id) or vim.api.nvim_get_current_buf() ~= bufnr or not M.enabled(bufnr) then
    return
  end
  cancel_pending()
  local cursor = vim.api.nvim_win_get_cursor(0)
  local row, col = cursor[1] - 1, cursor[2]
  local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, true)[1]
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    position = { line = row, character = encoding.character(line, col, c.offset_encoding or 'utf-16') },
    context = { triggerKind = trigger_kind },
  }
  local p = { bufnr = bufnr, tick = vim.api.nvim_buf_get_changedtick(bufnr), row = row, col = col, kind = trigger_kind, step = step }
  state.pending = p
  -- client.request sends the buffer's pending didChange first
  p.id = lsp.request(c, 'textDocument/inlineCompletion', params, function(err, result)
    on_response(p, err, result)
  end, bufnr)
  -- (the request went after the buffer's pending changes: this version is the server's now)
  p.version, p.position = lsp.version(bufnr), params.position
  if p.id == nil and state.pending == p then
    state.pending = nil
  end
  emit('SlipstreamRequest')
end

local function schedule(bufnr)
  M.clear()
  state.timer = vim.fn.timer_start(config.debounce_ms, function()
    state.timer = nil
    if in_insert_mode() then
      request(bufnr, 2)
    end
  end)
end

-- The suggestion shown, if the buffer and cursor are still where it was drawn.
local function current_suggestion()
  local s = state.offered and choices.current(state.offered)
  if not s or vim.api.nvim_get_current_buf() ~= s.bufnr or vim.api.nvim_buf_get_changedtick(s.bufnr) ~= s.tick
    or not M.enabled(s.bufnr) then
    return nil
  end
  local cursor = vim.api.nvim_win_get_cursor(0)
  if cursor[1] - 1 ~= s.row or cursor[2] ~= s.col then
    return nil
  end
  return s
end

--- Writes the suggestion shown into the buffer; false when there is none.
function M.accept()
  local s = current_suggestion()
  if not s then
    return false
  end
  M.clear()
  local row, col = ghost.apply(s.bufnr, s)
  vim.api.nvim_win_set_cursor(0, { row + 1, col })
  local c = client()
  local command = s.item.command
  if c and command then
    lsp.request(c, 'workspace/executeCommand', { command = command.command, arguments = command.arguments }, function() end, s.bufnr)
  end
  emit('SlipstreamAccepted')
  return true
end

-- Writes the first `n` bytes of the suggestion shown (fewer than all of it) at the cursor and
-- shows the rest after them: the same item, its range end moved by what was written, so that
-- accepting it later replaces what the item's range covered. The server is told how much
-- (textDocument/didPartiallyAcceptCompletion, in UTF-16 code units of the item's insertText).
local function accept_part(s, n)
  stop_timer()
  cancel_pending()
  ghost.clear(s.bufnr)
  local part, rest = s.text:sub(1, n), s.text:sub(n + 1)
  local row, col = ghost.write(s.bufnr, s.row, s.col, s.col, part)
  vim.api.nvim_win_set_cursor(0, { row + 1, col })
  local tick = vim.api.nvim_buf_get_changedtick(s.bufnr)
  -- what the item had accepted before this part, then this part
  local before = s.accepted or ''
  local accepted = before .. part
  state.offered = choices.new({
    { bufnr = s.bufnr, tick = tick, row = row, col = col, end_col = col + (s.end_col - s.col), text = rest, item = s.item, accepted = accepted },
  }, true)
  state.own_edit = { bufnr = s.bufnr, tick = tick, row = row, col = col }
  local c = client()
  if c then
    local length = encoding.character(accepted, #accepted, 'utf-16')
    lsp.notify(c, 'textDocument/didPartiallyAcceptCompletion', { item = s.item, acceptedLength = length })
  end
  display(nil, true)
end

-- Writes the part of the suggestion shown that `bytes` (partial.lua) measures of its text, all of
-- it as the accept key does; false when none is shown.
local function accept_some(bytes)
  local s = current_suggestion()
  if not s then
    return false
  end
  local n = bytes(s.text)
  if n >= #s.text then
    return M.accept()
  end
  accept_part(s, n)
  return true
end

--- Writes the suggestion shown up to the end of its next word (the blanks and punctuation before
--- it too) and keeps showing the rest; false when none is shown.
function M.accept_word()
  return accept_some(partial.word)
end

--- Writes the suggestion shown up to and with its next line break (all of it when it has none)
--- and keeps showing the rest; false when none is shown.
function M.accept_line()
  return accept_some(partial.line)
end

-- slipstream/suggestionFinished: the generation behind an early answer (the server's time budget)
-- has finished, and an automatic request at that document version and position now gets the
-- whole suggestion at once. Asks again there if the suggestion shown is still the answer to the
-- plugin's automatic request for them: same buffer, text and cursor, not dismissed, no
-- alternatives asked for; the answer replaces the part shown when it comes. Else nothing.
local function on_finished(_, params)
  local s = current_suggestion()
  local p = s and state.offered.asked
  if not p or p.kind ~= 2 or state.offered.complete or state.pending or type(params) ~= 'table'
    or type(params.textDocument) ~= 'table' or params.textDocument.uri ~= vim.uri_from_bufnr(p.bufnr)
    or params.textDocument.version ~= p.version or not vim.deep_equal(params.position, p.position) then
    return
  end
  request(p.bufnr, 2)
end

--- Hides the suggestion shown; false when there is none.
function M.dismiss()
  if not state.offered then
    return false
  end
  M.clear()
  return true
end

--- Asks for a suggestion at the cursor now (LSP triggerKind Invoked: no debounce on the server);
--- false when suggestions are off in this buffer (M.enabled), which asks nothing.
function M.trigger()
  local bufnr = vim.api.nvim_get_current_buf()
  if not M.enabled(bufnr) then
    return false
  end
  M.clear()
  request(bufnr, 1)
  return true
end

-- Whether the plugin is attached to buffer `bufnr` (its client may still be starting).
local function attached(bufnr)
  return state.client_id ~= nil and vim.lsp.buf_is_attached(bufnr, state.client_id)
end

-- Shows the suggestion `step` (1 or -1) away from the one shown, round the list. With no others
-- at hand yet, asks the server for alternatives at the same spot (an invoked request) and shows
-- the one `step` away when they come; until then the suggestion shown stays. With none shown,
-- asks for a suggestion as the trigger key does (false when the buffer is not attached). False,
-- asking nothing, when suggestions are off in the buffer.
local function cycle(step)
  if not M.enabled() then
    return false
  end
  local s = current_suggestion()
  if not s then
    if not attached(vim.api.nvim_get_current_buf()) then
      return false
    end
    return M.trigger()
  end
  local offered = state.offered
  if offered.complete then
    if #offered.list > 1 then
      choices.move(offered, step)
      display()
    end
  elseif not state.pending then
    request(s.bufnr, 1, step)
  end
  return true
end

--- Shows the next suggestion (an alternative), or asks for one when none is shown; false when
--- the buffer is not attached or suggestions are off in it.
function M.next()
  return cycle(1)
end

--- Shows the previous suggestion (an alternative), or asks for one when none is shown; false
--- when the buffer is not attached or suggestions are off in it.
function M.prev()
  return cycle(-1)
end

-- Whether the plugin attaches buffer `bufnr` to the server: true, or false and why not.
local function wants(bufnr)
  if vim.bo[bufnr].buftype ~= '' then
    return false, 'not a file buffer'
  end
  if vim.api.nvim_buf_get_name(bufnr) == '' then
    return false, 'no file name'
  end
  local fts = config.filetypes
  if fts ~= nil and not filetype_map() and not vim.tbl_contains(fts, vim.bo[bufnr].filetype) then
    return false, 'filetype not in filetypes'
  end
  return true
end

--- A copy of the plugin's state, for statuslines and tests. `suggestion.index` is which of the
--- `suggestion.count` suggestions offered at the cursor is shown. `enabled`: whether suggestions
--- are on in the current buffer (M.enabled; `off` says why not: 'global', 'buffer' or
--- 'filetype'); `attached`: whether the plugin attached it to the server; `auto_trigger`: the option.
function M.state()
  local offered = state.offered
  local s = offered and choices.current(offered)
  local bufnr = vim.api.nvim_get_current_buf()
  local on, off = M.enabled(bufnr)
  return {
    client_id = state.client_id,
    pending = state.pending and state.pending.id or nil,
    suggestion = s and { row = s.row, col = s.col, end_col = s.end_col, text = s.text, index = offered.index, count = #offered.list } or nil,
    last = state.last,
    enabled = on,
    off = off,
    attached = attached(bufnr),
    auto_trigger = config.auto_trigger,
  }
end

--- The server's `slipstream/status` (docs/protocol.md), or nil and a reason.
function M.status(timeout_ms)
  local c = client()
  if not c then
    return nil, 'not running'
  end
  local response, reason = lsp.request_sync(c, 'slipstream/status', vim.empty_dict(), timeout_ms or 2000)
  if not response then
    return nil, reason
  end
  if response.err then
    return nil, response.err.message
  end
  return response.result
end

-- :SlipstreamStatus: whether suggestions are on in the current buffer (and why not), then the
-- server's status (report.lua).
local function print_status()
  local bufnr = vim.api.nvim_get_current_buf()
  local on, off = M.enabled(bufnr)
  local attach_ok, not_attached = wants(bufnr)
  local here = report.here({
    on = on,
    off = off,
    filetype = vim.bo[bufnr].filetype,
    attached = attached(bufnr),
    not_attached = not attach_ok and not_attached or nil,
    auto_trigger = config.auto_trigger,
  })
  local status, reason = M.status()
  if not status then
    print('slipstream: ' .. here .. '; server: ' .. tostring(reason))
    return
  end
  print(report.server(status) .. '; ' .. here)
end

local function make_config()
  local capabilities = vim.lsp.protocol.make_client_capabilities()
  capabilities.textDocument.inlineCompletion = { dynamicRegistration = false }
  capabilities.experimental = { slipstream = { suggestionFinished = true } }
  return {
    name = 'slipstream',
    cmd = config.cmd,
    cmd_cwd = config.cmd_cwd,
    cmd_env = config.cmd_env,
    root_dir = root_dir,
    capabilities = capabilities,
    init_options = dict(vim.tbl_deep_extend('force', {}, config.settings, config.init_options)),
    settings = { slipstream = dict(vim.deepcopy(config.settings)) },
    handlers = { ['slipstream/suggestionFinished'] = on_finished },
    on_attach = function(_, bufnr)
      emit('SlipstreamAttached')
      -- typed before the server was up: ask now rather than wait for the next keystroke
      if config.auto_trigger and bufnr == vim.api.nvim_get_current_buf() and in_insert_mode() and M.enabled(bufnr) then
        schedule(bufnr)
      end
    end,
    on_exit = function()
      vim.schedule(function()
        M.clear()
        state.client_id = nil
      end)
    end,
  }
end

local start_failed = false

local function attach(bufnr)
  if not wants(bufnr) then
    return
  end
  if state.client_id and vim.lsp.buf_is_attached(bufnr, state.client_id) then
    return
  end
  local ok, id = pcall(lsp.attach, bufnr, make_config)
  if ok and id then
    state.client_id = id
  elseif not start_failed then
    start_failed = true
    local cmd = type(config.cmd) == 'table' and table.concat(config.cmd, ' ') or tostring(config.cmd)
    vim.notify('slipstream: could not start ' .. cmd .. (ok and '' or (': ' .. tostring(id))), vim.log.levels.ERROR)
  end
end

-- Whether buffer `bufnr` and the cursor are as the plugin's own partial accept left them: its
-- TextChangedI / CursorMovedI then keep the rest of the suggestion on screen.
local function own_edit(bufnr)
  local e = state.own_edit
  if not e or e.bufnr ~= bufnr or vim.api.nvim_get_current_buf() ~= bufnr then
    return false
  end
  local cursor = vim.api.nvim_win_get_cursor(0)
  return vim.api.nvim_buf_get_changedtick(bufnr) == e.tick and cursor[1] - 1 == e.row and cursor[2] == e.col
end

local function map(lhs, action, desc)
  if not lhs or lhs == '' then
    return
  end
  local keys = vim.api.nvim_replace_termcodes(lhs, true, false, true)
  vim.keymap.set('i', lhs, function()
    if not action() then
      vim.api.nvim_feedkeys(keys, 'ni', false)
    end
  end, { silent = true, desc = desc })
end

-- Removes the suggestion and cancels the request in flight if they are in buffer `bufnr`
-- (nil: wherever they are).
local function clear_in(bufnr)
  local s = state.offered and choices.current(state.offered)
  local p = state.pending
  if bufnr == nil or (s and s.bufnr == bufnr) or (p and p.bufnr == bufnr) then
    M.clear()
  end
end

--- Turns suggestions off: in all buffers (`bufnr` nil; g:slipstream_enabled = false), or in
--- buffer `bufnr` (0: the current one; b:slipstream_enabled = false). The suggestion shown and the
--- request in flight go at once; the buffers stay attached, their documents in sync.
function M.disable(bufnr)
  if bufnr == nil then
    vim.g.slipstream_enabled = false
  else
    bufnr = buffer_number(bufnr)
    vim.b[bufnr].slipstream_enabled = false
    -- (a timer pending is for the current buffer, where the autocommands schedule)
    if bufnr ~= vim.api.nvim_get_current_buf() then
      return clear_in(bufnr)
    end
  end
  M.clear()
end

--- Turns suggestions on again: in all buffers (`bufnr` nil; g:slipstream_enabled = true: buffers
--- and filetypes turned off stay off), or in buffer `bufnr` (0: the current one;
--- b:slipstream_enabled = true, which wins over the `filetypes` map, not over the global switch).
--- Asks nothing by itself: the next keystroke does.
function M.enable(bufnr)
  if bufnr == nil then
    vim.g.slipstream_enabled = true
  else
    vim.b[buffer_number(bufnr)].slipstream_enabled = true
  end
end

--- Turns suggestions off if they are on, else on, in all buffers (`bufnr` nil) or buffer `bufnr`
--- (its own switch: the buffer variable, else its filetype's); returns whether they are on now.
function M.toggle(bufnr)
  local on
  if bufnr == nil then
    on = flag(vim.g.slipstream_enabled) ~= false
  else
    bufnr = buffer_number(bufnr)
    on = buffer_on(bufnr)
  end
  if on then
    M.disable(bufnr)
  else
    M.enable(bufnr)
  end
  return not on
end

-- The :SlipstreamEnable / Disable / Toggle commands: `!` for the current buffer only.
local function switch_command(name, fn, desc)
  vim.api.nvim_create_user_command(name, function(args)
    local on = fn(args.bang and 0 or nil)
    if name == 'SlipstreamToggle' then
      print(string.format('slipstream: suggestions %s %s', on and 'on' or 'off', args.bang and 'in this buffer' or 'globally'))
    end
  end, { bang = true, desc = desc })
end

--- Starts the plugin: attaches to buffers as they are entered, sets the keys. See the README.
function M.setup(opts)
  config = vim.tbl_deep_extend('force', vim.deepcopy(defaults), opts or {})
  -- lists replace, not merge
  if opts and opts.cmd then
    config.cmd = opts.cmd
  end
  if opts and opts.filetypes then
    config.filetypes = opts.filetypes
  end
  root_dir = config.root_dir or vim.fn.getcwd()
  vim.cmd('highlight default link SlipstreamSuggestion Comment')

  local group = vim.api.nvim_create_augroup('slipstream', { clear = true })
  vim.api.nvim_create_autocmd('BufEnter', {
    group = group,
    callback = function(args)
      attach(args.buf)
    end,
  })
  vim.api.nvim_create_autocmd({ 'TextChangedI', 'CursorMovedI' }, {
    group = group,
    callback = function(args)
      if not attached(args.buf) or own_edit(args.buf) then
        return
      end
      if config.auto_trigger and M.enabled(args.buf) then
        schedule(args.buf)
      else
        M.clear() -- the suggestion goes and the request in flight is cancelled all the same
      end
    end,
  })
  vim.api.nvim_create_autocmd({ 'InsertLeave', 'BufLeave' }, { group = group, callback = M.clear })

  map(config.keys.accept, M.accept, 'Accept the Slipstream suggestion')
  map(config.keys.dismiss, M.dismiss, 'Dismiss the Slipstream suggestion')
  map(config.keys.trigger, M.trigger, 'Ask Slipstream for a suggestion')
  map(config.keys.next, M.next, 'Show the next Slipstream suggestion')
  map(config.keys.prev, M.prev, 'Show the previous Slipstream suggestion')
  map(config.keys.accept_word, M.accept_word, 'Accept the next word of the Slipstream suggestion')
  map(config.keys.accept_line, M.accept_line, 'Accept the next line of the Slipstream suggestion')
  if config.tab_accept then
    map('<Tab>', M.accept, 'Accept the Slipstream suggestion')
  end
  vim.api.nvim_create_user_command('SlipstreamStatus', print_status, { desc = 'Show the Slipstream server status' })
  switch_command('SlipstreamDisable', M.disable, 'Turn Slipstream suggestions off (!: in this buffer)')
  switch_command('SlipstreamEnable', M.enable, 'Turn Slipstream suggestions on (!: in this buffer)')
  switch_command('SlipstreamToggle', M.toggle, 'Turn Slipstream suggestions off or on (!: in this buffer)')

  attach(vim.api.nvim_get_current_buf())
end

return M
