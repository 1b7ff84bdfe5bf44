vim9script
# Slipstream for Vim: while you type in Insert mode, asks the server for
# `textDocument/inlineCompletion`, shows the answer as virtual text, writes it into the buffer on
# the accept key, and drops it (cancelling a request in flight) on the next keystroke. The
# autocommands and keys that call in here are in plugin/slipstream.vim; see editors/vim/README.md.

import autoload 'slipstream/server.vim'
import autoload 'slipstream/ghost.vim'
import autoload 'slipstream/encoding.vim'

var timer = 0
# the request in flight: {id, bufnr, tick, lnum, col}
var pending: dict<any> = {}
# the suggestion shown: {bufnr, tick, lnum, col, end_col, text, item}
var suggestion: dict<any> = {}
# how the last request ended: {outcome: 'shown'|'empty'|'stale'|'error', code?, message?}
var last: dict<any> = {}

def Emit(name: string)
  if exists('#User#' .. name)
    execute 'doautocmd <nomodeline> User ' .. name
  endif
enddef

def InInsertMode(): bool
  return mode() =~# '^i'
enddef

def Wants(bufnr: number): bool
  if getbufvar(bufnr, '&buftype') != '' || bufname(bufnr) == ''
    return false
  endif
  return empty(g:slipstream_filetypes) || index(g:slipstream_filetypes, getbufvar(bufnr, '&filetype')) >= 0
enddef

def CancelPending()
  var p = pending
  pending = {}
  if !empty(p) && p.id > 0
    server.Cancel(p.id)
  endif
enddef

# Removes the suggestion shown, cancels the request in flight and the debounce timer.
export def Clear()
  if timer > 0
    timer_stop(timer)
    timer = 0
  endif
  CancelPending()
  var s = suggestion
  suggestion = {}
  if !empty(s)
    ghost.Clear(s.bufnr)
    Emit('SlipstreamCleared')
  endif
enddef

def Finish(outcome: string, err: dict<any> = {})
  last = {outcome: outcome}
  if !empty(err)
    last.code = get(err, 'code', 0)
    last.message = get(err, 'message', '')
  endif
  Emit('SlipstreamResponse')
enddef

def OnResponse(p: dict<any>, msg: dict<any>)
  if pending isnot p
    return # cancelled or superseded by a newer keystroke
  endif
  pending = {}
  if has_key(msg, 'error')
    Finish('error', msg.error)
    return
  endif
  var result = get(msg, 'result', {})
  var items = type(result) == v:t_dict ? get(result, 'items', []) : type(result) == v:t_list ? result : []
  var item = empty(items) ? {} : items[0]
  var text = get(item, 'insertText', '')
  if type(text) != v:t_string || text == ''
    Finish('empty')
    return
  endif
  if bufnr('%') != p.bufnr || b:changedtick != p.tick || line('.') != p.lnum || col('.') - 1 != p.col || !InInsertMode()
    Finish('stale')
    return
  endif
  var line = getline(p.lnum)
  var end_col = p.col
  if has_key(item, 'range')
    var enc = server.Encoding()
    var start = item.range.start
    var stop = item.range.end
    # the server's ranges start at the cursor and end on its line (docs/protocol.md)
    if start.line != p.lnum - 1 || stop.line != p.lnum - 1 || encoding.ByteCol(line, start.character, enc) != p.col
      Finish('error', {message: 'range does not start at the cursor'})
      return
    endif
    end_col = max([p.col, encoding.ByteCol(line, stop.character, enc)])
  endif
  suggestion = {bufnr: p.bufnr, tick: p.tick, lnum: p.lnum, col: p.col, end_col: end_col, text: text, item: item}
  ghost.Show(suggestion)
  server.Notify('textDocument/didShowCompletion', {item: item})
  Finish('shown')
  Emit('SlipstreamShown')
enddef

def Request(bufnr: number, trigger: number)
  if !server.IsOpen(bufnr) || bufnr('%') != bufnr
    return
  endif
  CancelPending()
  server.Sync(bufnr)
  var lnum = line('.')
  var col = col('.') - 1
  var params = {
    textDocument: {uri: server.Uri(bufname(bufnr))},
    position: {line: lnum - 1, character: encoding.Character(getline(lnum), col, server.Encoding())},
    context: {triggerKind: trigger},
  }
  var p = {id: 0, bufnr: bufnr, tick: b:changedtick, lnum: lnum, col: col}
  pending = p
  p.id = server.Request('textDocument/inlineCompletion', params, (msg) => OnResponse(p, msg))
  if p.id == 0 && pending is p
    pending = {}
  endif
  Emit('SlipstreamRequest')
enddef

def Schedule(bufnr: number)
  Clear()
  timer = timer_start(g:slipstream_debounce_ms, (_) => {
    timer = 0
    if InInsertMode()
      Request(bufnr, 2)
    endif
  })
enddef

def Opened(bufnr: number)
  Emit('SlipstreamAttached')
  # typed before the server was up: ask now rather than wait for the next keystroke
  if bufnr == bufnr('%') && InInsertMode()
    Schedule(bufnr)
  endif
enddef

# Starts the server if needed and opens the buffer on it (BufEnter).
export def Attach(bufnr: number)
  if !Wants(bufnr) || server.IsOpen(bufnr)
    return
  endif
  if server.Start()
    server.Open(bufnr, Opened)
  endif
enddef

export def Detach(bufnr: number)
  server.Close(bufnr)
enddef

# Text changed or the cursor moved in Insert mode: drop the suggestion, ask again after the debounce.
export def OnEdit()
  var bufnr = bufnr('%')
  if server.IsOpen(bufnr)
    Schedule(bufnr)
  endif
enddef

def Ignore(response: dict<any>)
enddef

# The suggestion shown, if the buffer and cursor are still where it was drawn; else {}.
def Current(): dict<any>
  var s = suggestion
  if empty(s) || bufnr('%') != s.bufnr || b:changedtick != s.tick || line('.') != s.lnum || col('.') - 1 != s.col
    return {}
  endif
  return s
enddef

export def HasSuggestion(): bool
  return !empty(Current())
enddef

# Writes the suggestion shown into the buffer; false when there is none.
export def Accept(): bool
  var s = Current()
  if empty(s)
    return false
  endif
  Clear()
  ghost.Apply(s)
  var command = get(s.item, 'command', {})
  if !empty(command)
    server.Request('workspace/executeCommand', {command: command.command, arguments: get(command, 'arguments', [])}, Ignore)
  endif
  Emit('SlipstreamAccepted')
  return true
enddef

# Hides the suggestion shown; false when there is none.
export def Dismiss(): bool
  if empty(suggestion)
    return false
  endif
  Clear()
  return true
enddef

# Asks for a suggestion at the cursor now (LSP triggerKind Invoked: no debounce on the server).
export def Trigger()
  Clear()
  Request(bufnr('%'), 1)
enddef

# A copy of the plugin's state, for statuslines and tests.
export def State(): dict<any>
  var s = suggestion
  return {
    pending: empty(pending) ? 0 : pending.id,
    suggestion: empty(s) ? {} : {lnum: s.lnum, col: s.col, end_col: s.end_col, text: s.text},
    last: last,
  }
enddef

# The server's slipstream/status (docs/protocol.md); {} when it does not answer within 5 s.
export def Status(): dict<any>
  return get(server.Evaluate('slipstream/status', {}, 5000), 'result', {})
enddef

export def PrintStatus()
  var status = Status()
  if empty(status)
    echomsg 'slipstream: not running (:SlipstreamLog shows why)'
    return
  endif
  var e = status.engine
  var model = type(e.model) == v:t_dict ? e.model.dir : '(no model)'
  var latency = status.latency.count > 0 ? printf('%.0f ms p50', status.latency.p50Ms) : 'no requests yet'
  echomsg printf('slipstream %s: %s, %s, %s, %d shown, %d accepted', status.version, e.state, model, latency, status.events.shown, status.events.accepted)
enddef

export def PrintLog()
  for line in server.LogLines()
    echomsg line
  endfor
enddef

export def Stop()
  Clear()
  server.Stop()
enddef
