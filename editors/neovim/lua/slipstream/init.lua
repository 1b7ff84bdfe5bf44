-- Slipstream for Neovim: asks the Slipstream language server for `textDocument/inlineCompletion`
-- through Neovim's own LSP client while you type in Insert mode, shows the answer as virtual text,
-- cycles through alternatives on the next / previous keys (asking the server for them with an
-- invoked request when it has not yet, or for a suggestion when none is shown), writes the
-- suggestion shown into the buffer on the accept key (or its next word or line on the accept-word
-- and accept-line keys, the rest staying on screen), and drops it all (cancelling a request in
-- flight) on the next keystroke. Setup and options: editors/neovim/README.md. Not a completion
-- menu source.
local lsp = require('slipstream.lsp')
local encoding = require('slipstream.encoding')
local ghost = require('slipstream.ghost')
local choices = require('slipstream.choices')
local partial = require('slipstream.partial')

local M = {}

local defaults = {
  -- the server command: anything that speaks LSP on stdio (a later `serve --stdio --connect` too)
  cmd = { 'slipstream', 'serve', '--stdio' },
  cmd_cwd = nil,
  cmd_env = nil,
  -- workspace root sent to the server; nil: the current directory when setup() runs
  root_dir = nil,
  -- filetypes to attach to; nil: every buffer that has a file name
  filetypes = nil,
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
  -- the request in flight: { id, bufnr, tick, row, col, kind, step }; step: a request for
  -- alternatives, to show the one `step` (1 or -1) away from the suggestion shown when it answers
  pending = nil,
  -- the suggestions at the cursor, one of them shown (choices.lua); each is
  -- { bufnr, tick, row, col, end_col, text, item }
  offered = nil,
  -- how the last request ended: { outcome = 'shown'|'empty'|'stale'|'error', code?, message? }
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
  display('shown')
end

-- Asks for suggestions at the cursor (`trigger_kind` 2 automatic, 1 invoked); `step` (1 or -1):
-- for alternatives of the suggestion shown.
local function request(bufnr, trigger_kind, step)
  local c = client()
  if not c or not vim.lsp.buf_is_attached(bufnr, c.id) or vim.api.nvim_get_current_buf() ~= bufnr then
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
  if not s or vim.api.nvim_get_current_buf() ~= s.bufnr or vim.api.nvim_buf_get_changedtick(s.bufnr) ~= s.tick then
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

--- Hides the suggestion shown; false when there is none.
function M.dismiss()
  if not state.offered then
    return false
  end
  M.clear()
  return true
end

--- Asks for a suggestion at the cursor now (LSP triggerKind Invoked: no debounce on the server).
function M.trigger()
  M.clear()
  request(vim.api.nvim_get_current_buf(), 1)
  return true
end

-- Whether the plugin is attached to buffer `bufnr` (its client may still be starting).
local function attached(bufnr)
  return state.client_id ~= nil and vim.lsp.buf_is_attached(bufnr, state.client_id)
end

-- Shows the suggestion `step` (1 or -1) away from the one shown, round the list. With no others
-- at hand yet, asks the server for alternatives at the same spot (an invoked request) and shows
-- the one `step` away when they come; until then the suggestion shown stays. With none shown,
-- asks for a suggestion as the trigger key does (false when the buffer is not attached).
local function cycle(step)
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
--- the buffer is not attached.
function M.next()
  return cycle(1)
end

--- Shows the previous suggestion (an alternative), or asks for one when none is shown; false
--- when the buffer is not attached.
function M.prev()
  return cycle(-1)
end

--- A copy of the plugin's state, for statuslines and tests. `suggestion.index` is which of the
--- `suggestion.count` suggestions offered at the cursor is shown.
function M.state()
  local offered = state.offered
  local s = offered and choices.current(offered)
  return {
    client_id = state.client_id,
    pending = state.pending and state.pending.id or nil,
    suggestion = s and { row = s.row, col = s.col, end_col = s.end_col, text = s.text, index = offered.index, count = #offered.list } or nil,
    last = state.last,
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

local function print_status()
  local status, reason = M.status()
  if not status then
    vim.notify('slipstream: ' .. tostring(reason), vim.log.levels.WARN)
    return
  end
  local e = status.engine
  local model = e.model and e.model.dir or '(no model)'
  local latency = status.latency.count > 0 and string.format('%.0f ms p50', status.latency.p50Ms) or 'no requests yet'
  print(string.format('slipstream %s: %s, %s, %s, %d shown, %d accepted', status.version, e.state, model, latency,
    status.events.shown, status.events.accepted))
end

local function wants(bufnr)
  if vim.bo[bufnr].buftype ~= '' or vim.api.nvim_buf_get_name(bufnr) == '' then
    return false
  end
  return config.filetypes == nil or vim.tbl_contains(config.filetypes, vim.bo[bufnr].filetype)
end

local function make_config()
  local capabilities = vim.lsp.protocol.make_client_capabilities()
  capabilities.textDocument.inlineCompletion = { dynamicRegistration = false }
  return {
    name = 'slipstream',
    cmd = config.cmd,
    cmd_cwd = config.cmd_cwd,
    cmd_env = config.cmd_env,
    root_dir = root_dir,
    capabilities = capabilities,
    init_options = dict(vim.tbl_deep_extend('force', {}, config.settings, config.init_options)),
    settings = { slipstream = dict(vim.deepcopy(config.settings)) },
    on_attach = function(_, bufnr)
      emit('SlipstreamAttached')
      -- typed before the server was up: ask now rather than wait for the next keystroke
      if bufnr == vim.api.nvim_get_current_buf() and in_insert_mode() then
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

--- Starts the plugin: attaches to buffers as they are entered, sets the keys. See the README.
function M.setup(opts)
  config = vim.tbl_deep_extend('force', vim.deepcopy(defaults), opts or {})
  -- lists replace, not merge
  if opts and opts.cmd then
    config.cmd = opts.cmd
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
      if attached(args.buf) and not own_edit(args.buf) then
        schedule(args.buf)
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

  attach(vim.api.nvim_get_current_buf())
end

return M
