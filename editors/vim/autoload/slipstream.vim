vim9script
# Slipstream for Vim: while you type in Insert mode, asks the server for
# `textDocument/inlineCompletion`, shows the answer as virtual text, cycles through alternatives on
# the next / previous keys (asking the server for them with an invoked request when it has not
# yet, or for a suggestion when none is shown), writes the suggestion shown into the buffer on the
# accept key (or its next word or line on the accept-word / accept-line keys, the rest staying
# shown), and drops it all (cancelling a request in flight) on the next keystroke. When the server
# says the whole suggestion behind an early (time budget) answer is ready
# (slipstream/suggestionFinished), asks again there and shows it in place of the part shown. Asks
# nothing where suggestions are off (:SlipstreamDisable, b:slipstream_enabled,
# g:slipstream_filetypes), and only on the keys with g:slipstream_auto_trigger off, but keeps the
# server's copy of the buffer current all the same. The autocommands, keys and commands that call in here are in
# plugin/slipstream.vim; see editors/vim/README.md.

import autoload 'slipstream/server.vim'
import autoload 'slipstream/ghost.vim'
import autoload 'slipstream/encoding.vim'
import autoload 'slipstream/choices.vim'

var timer = 0
# the request in flight: {id, bufnr, tick, lnum, col, trigger, step, position}; step (1 or -1): a
# request for alternatives, to show the one step away from the suggestion shown when it answers;
# tick: the document version sent with it, position: its LSP position
var pending: dict<any> = {}
# the suggestions at the cursor, one of them shown (choices.vim); each is
# {bufnr, tick, lnum, col, end_col, text, item, accepted}: text is what is left of item.insertText
# after partial accepts, accepted how much of it they wrote (UTF-16 code units). asked: the
# request they answer (none after a partial accept)
var offered: dict<any> = {}
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

# Whether a switch's value is off: v:false or 0 (anything else is on).
def IsOff(value: any): bool
  return type(value) == v:t_bool ? !value : type(value) == v:t_number && value == 0
enddef

# Whether g:slipstream_filetypes lets the plugin serve filetype ft. A list: the filetypes served
# (empty: all). A dict: ft's own entry if it has one, else '*', else on.
def FiletypeOn(ft: string): bool
  var filetypes = get(g:, 'slipstream_filetypes', [])
  if type(filetypes) == v:t_dict
    return !IsOff(get(filetypes, ft, get(filetypes, '*', true)))
  endif
  return empty(filetypes) || index(filetypes, ft) >= 0
enddef

# Why suggestions are off in buffer bufnr: 'disabled' (in this Vim: :SlipstreamDisable),
# 'buffer' (b:slipstream_enabled), 'filetype' (g:slipstream_filetypes); '' when they are on.
def Off(bufnr: number): string
  if IsOff(get(g:, 'slipstream_enabled', true))
    return 'disabled'
  elseif IsOff(getbufvar(bufnr, 'slipstream_enabled', true))
    return 'buffer'
  elseif !FiletypeOn(getbufvar(bufnr, '&filetype'))
    return 'filetype'
  endif
  return ''
enddef

# Whether the plugin attaches buffer bufnr (opens it on the server): a file buffer whose filetype
# g:slipstream_filetypes lets in. (The other switches only stop the requests.)
def Wants(bufnr: number): bool
  if getbufvar(bufnr, '&buftype') != '' || bufname(bufnr) == ''
    return false
  endif
  return FiletypeOn(getbufvar(bufnr, '&filetype'))
enddef

def CancelPending()
  var p = pending
  pending = {}
  if !empty(p) && p.id > 0
    server.Cancel(p.id)
  endif
enddef

# Removes the suggestion shown (and its alternatives), cancels the request in flight and the
# debounce timer.
export def Clear()
  if timer > 0
    timer_stop(timer)
    timer = 0
  endif
  CancelPending()
  var o = offered
  offered = {}
  if !empty(o)
    ghost.Clear(choices.Current(o).bufnr)
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

# Draws the suggestion on screen and tells the server; outcome: it answers a request.
def Display(outcome: string = '')
  var s = choices.Current(offered)
  ghost.Show(s, choices.Label(offered))
  server.Notify('textDocument/didShowCompletion', {item: s.item})
  if outcome != ''
    Finish(outcome)
  endif
  Emit('SlipstreamShown')
enddef

# Whether the buffer, its text, the cursor or the mode changed since request p was sent.
def MovedSince(p: dict<any>): bool
  return bufnr('%') != p.bufnr || b:changedtick != p.tick || line('.') != p.lnum || col('.') - 1 != p.col || !InInsertMode()
enddef

# The byte column where item's range ends in line, the cursor line of request p; -1 when the
# range does not start at the cursor or leaves its line.
def EndCol(p: dict<any>, item: dict<any>, line: string): number
  if !has_key(item, 'range')
    return p.col
  endif
  var enc = server.Encoding()
  var start = item.range.start
  var stop = item.range.end
  # the server's ranges start at the cursor and end on its line (docs/protocol.md)
  if start.line != p.lnum - 1 || stop.line != p.lnum - 1 || encoding.ByteCol(line, start.character, enc) != p.col
    return -1
  endif
  return max([p.col, encoding.ByteCol(line, stop.character, enc)])
enddef

# Whether item is an inline completion item with a non-empty insertText.
def HasText(item: any): bool
  return type(item) == v:t_dict && type(get(item, 'insertText', 0)) == v:t_string && item.insertText != ''
enddef

# The suggestions in msg, the response to request p (items without text left out): {list}; or
# {outcome: 'empty'|'stale'|'error', error?}.
def Suggestions(p: dict<any>, msg: dict<any>): dict<any>
  if has_key(msg, 'error')
    return {outcome: 'error', error: msg.error}
  endif
  var result = get(msg, 'result', {})
  var items = type(result) == v:t_dict ? get(result, 'items', []) : type(result) == v:t_list ? result : []
  items = filter(copy(items), (_, item) => HasText(item))
  if empty(items)
    return {outcome: 'empty'}
  endif
  if MovedSince(p)
    return {outcome: 'stale'}
  endif
  var line = getline(p.lnum)
  var list: list<dict<any>> = []
  for item in items
    var end_col = EndCol(p, item, line)
    if end_col < 0
      return {outcome: 'error', error: {message: 'range does not start at the cursor'}}
    endif
    add(list, {bufnr: p.bufnr, tick: p.tick, lnum: p.lnum, col: p.col, end_col: end_col, text: item.insertText, item: item, accepted: 0})
  endfor
  return {list: list}
enddef

# The answer to a request for alternatives of the suggestion shown: adds those not yet offered and
# shows the one p.step away; the suggestion shown stays when there is none.
def OnAlternatives(p: dict<any>, answer: dict<any>)
  if empty(offered)
    Finish('stale')
    return
  endif
  if !has_key(answer, 'list')
    # nothing to add (but an error may pass: ask again on the next press)
    offered.complete = answer.outcome != 'error'
    Finish(answer.outcome, get(answer, 'error', {}))
    return
  endif
  offered.complete = true
  if choices.Add(offered, answer.list) == 0
    Finish('empty')
    return
  endif
  choices.Move(offered, p.step)
  Display('shown')
enddef

def OnResponse(p: dict<any>, msg: dict<any>)
  if pending isnot p
    return # cancelled or superseded by a newer keystroke
  endif
  pending = {}
  var answer = Suggestions(p, msg)
  if p.step != 0
    OnAlternatives(p, answer)
  elseif has_key(answer, 'list')
    # an invoked request's answer holds all the server offers here
    offered = choices.New(answer.list, p.trigger == 1)
    offered.asked = p
    Display('shown')
  else
    Finish(answer.outcome, get(answer, 'error', {}))
  endif
enddef

# Asks for suggestions at the cursor (trigger 2 automatic, 1 invoked); step (1 or -1): for
# alternatives of the suggestion shown.
def Request(bufnr: number, trigger: number, step: number = 0)
  if !server.IsOpen(bufnr) || bufnr('%') != bufnr || Off(bufnr) != ''
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
  var p = {id: 0, bufnr: bufnr, tick: b:changedtick, lnum: lnum, col: col, trigger: trigger, step: step, position: params.position}
  pending = p
  p.id = server.Request('textDocument/inlineCompletion', params, (msg) => OnResponse(p, msg))
  if p.id == 0 && pending is p
    pending = {}
  endif
  Emit('SlipstreamRequest')
enddef

# Whether the plugin asks while typing (g:slipstream_auto_trigger), not only on the keys.
def AutoTrigger(): bool
  return !IsOff(get(g:, 'slipstream_auto_trigger', true))
enddef

# After the debounce, asks for a suggestion at the cursor; where it asks nothing now (suggestions
# off, or only on request), sends the server the buffer's text instead, so that its copy stays
# as current as when it asks.
def Schedule(bufnr: number)
  Clear()
  timer = timer_start(g:slipstream_debounce_ms, (_) => {
    timer = 0
    if Off(bufnr) != '' || !AutoTrigger()
      server.Sync(bufnr)
    elseif InInsertMode()
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
# Not after a partial accept: the suggestion's rest then stands at the text and cursor it made.
export def OnEdit()
  var bufnr = bufnr('%')
  if server.IsOpen(bufnr) && !HasSuggestion()
    Schedule(bufnr)
  endif
enddef

def Ignore(response: dict<any>)
enddef

# The suggestion shown, if the buffer and cursor are still where it was drawn; else {}.
def Current(): dict<any>
  if empty(offered)
    return {}
  endif
  var s = choices.Current(offered)
  if bufnr('%') != s.bufnr || b:changedtick != s.tick || line('.') != s.lnum || col('.') - 1 != s.col
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

# Writes the first n bytes of the suggestion shown (at least one character, and less than all of
# it) and shows the rest at the cursor after them: the same item, its range's end moved along
# with the line's tail. Tells the server how much of the item is written so far.
def AcceptPart(s: dict<any>, n: number)
  var part = strpart(s.text, 0, n)
  Clear()
  ghost.Apply({lnum: s.lnum, col: s.col, end_col: s.col, text: part})
  var col = col('.') - 1
  var rest = extend(copy(s), {tick: b:changedtick, lnum: line('.'), col: col, end_col: col + s.end_col - s.col, text: strpart(s.text, n)})
  rest.accepted += encoding.Character(part, len(part), 'utf-16')
  server.Notify('textDocument/didPartiallyAcceptCompletion', {item: s.item, acceptedLength: rest.accepted})
  # one suggestion left, nothing to ask for (the cursor is no longer where the others were offered)
  offered = choices.New([rest], true)
  Display()
enddef

# Writes the first Count(text) bytes of the suggestion shown (all of them: a full accept); false
# when none is shown.
def AcceptBytes(Count: func(string): number): bool
  var s = Current()
  if empty(s)
    return false
  endif
  # at least one character
  var count = max([Count(s.text), len(strcharpart(s.text, 0, 1))])
  if count >= len(s.text)
    return Accept()
  endif
  AcceptPart(s, count)
  return true
enddef

# Writes the suggestion shown up to the end of its next word (what comes before the word, white
# space and punctuation, goes with it; words as 'iskeyword' has them) and shows the rest; false
# when none is shown.
export def AcceptWord(): bool
  return AcceptBytes((text) => matchend(text, '^\%(\k\@!\_.\)*\k*'))
enddef

# Writes the suggestion shown up to and with its next line break (all of it when it has none) and
# shows the rest; false when none is shown.
export def AcceptLine(): bool
  return AcceptBytes((text) => stridx(text, "\n") < 0 ? len(text) : stridx(text, "\n") + 1)
enddef

# slipstream/suggestionFinished: the generation behind an early answer (the server's time budget)
# has finished, and an automatic request at that document version and position now gets the whole
# suggestion at once. Asks again there if the suggestion shown is still the answer to the plugin's
# automatic request for them: same buffer, text (the version sent with the request) and cursor,
# suggestions on, not dismissed, no alternatives asked for; the answer replaces the part shown when
# it comes. Else nothing. (Exported for the tests, which call it with made-up params.)
export def OnSuggestionFinished(params: any)
  var p = empty(Current()) ? {} : get(offered, 'asked', {})
  if empty(p) || p.trigger != 2 || offered.complete || !empty(pending) || Off(p.bufnr) != '' || type(params) != v:t_dict
    return
  endif
  var doc = get(params, 'textDocument', 0)
  var position = get(params, 'position', 0)
  # (checked type by type: Vim9 refuses to compare values of different types)
  if type(doc) != v:t_dict || type(get(doc, 'uri', 0)) != v:t_string || type(get(doc, 'version', '')) != v:t_number
      || type(position) != v:t_dict || doc.uri !=# server.Uri(bufname(p.bufnr)) || doc.version != p.tick || position != p.position
    return
  endif
  Request(p.bufnr, 2)
enddef

server.OnNotification('slipstream/suggestionFinished', OnSuggestionFinished)

# Hides the suggestion shown; false when there is none.
export def Dismiss(): bool
  if empty(offered)
    return false
  endif
  Clear()
  return true
enddef

# Asks for a suggestion at the cursor now (LSP triggerKind Invoked: no debounce on the server);
# false where the plugin does not serve the buffer or suggestions are off there.
export def Trigger(): bool
  Clear()
  if !Active()
    return false
  endif
  Request(bufnr('%'), 1)
  return true
enddef

# Shows the suggestion step (1 or -1) away from the one shown, round the list. With no others at
# hand yet, asks the server for alternatives at the same spot (an invoked request) and shows the
# one step away when they come; until then the suggestion shown stays.
def Cycle(step: number): bool
  var s = Current()
  if empty(s)
    return false
  endif
  if offered.complete
    if len(offered.list) > 1
      choices.Move(offered, step)
      Display()
    endif
  elseif empty(pending)
    Request(s.bufnr, 1, step)
  endif
  return true
enddef

# Whether the plugin serves the current buffer (the server has it open) and suggestions are on
# there (not turned off in this Vim, the buffer or for its filetype).
export def Active(): bool
  return server.IsOpen(bufnr('%')) && Off(bufnr('%')) == ''
enddef

# Whether suggestions are on in buffer bufnr, and why not, in words.
def Here(bufnr: number): string
  var off = Off(bufnr)
  if off == 'disabled'
    return 'suggestions off: disabled in this Vim (:SlipstreamEnable turns them on)'
  elseif off == 'buffer'
    return 'suggestions off in this buffer (b:slipstream_enabled is false)'
  elseif off == 'filetype'
    var ft = getbufvar(bufnr, '&filetype')
    return printf('suggestions off for this filetype (%s, g:slipstream_filetypes)', ft == '' ? 'none' : ft)
  elseif !Wants(bufnr)
    return 'suggestions off here (not a file buffer)'
  elseif !AutoTrigger()
    return 'suggestions on here, when asked (g:slipstream_auto_trigger is false)'
  endif
  return 'suggestions on here'
enddef

# Turns suggestions on or off in this Vim (:SlipstreamEnable, :SlipstreamDisable): off drops the
# suggestion shown and the request in flight at once, and asks nothing more until on again. The
# buffers stay open on the server, which keeps getting their text.
export def Enable(on: bool)
  g:slipstream_enabled = on
  if !on
    Clear()
  endif
  echo 'slipstream: ' .. Here(bufnr('%'))
enddef

# :SlipstreamToggle
export def Toggle()
  Enable(IsOff(get(g:, 'slipstream_enabled', true)))
enddef

# With no suggestion shown, asks for one now (as Trigger(), but not again while such a request
# for the same text and cursor is in flight); false where the plugin does not serve the buffer.
def Ask(): bool
  if !Active()
    return false
  endif
  if empty(pending) || pending.trigger != 1 || pending.step != 0 || MovedSince(pending)
    Trigger()
  endif
  return true
enddef

# Shows the next suggestion (an alternative), or asks for suggestions when none is shown; false
# where the plugin does not serve the buffer.
export def Next(): bool
  return Cycle(1) || Ask()
enddef

# Shows the previous suggestion (an alternative), or asks for suggestions when none is shown;
# false where the plugin does not serve the buffer.
export def Prev(): bool
  return Cycle(-1) || Ask()
enddef

# A copy of the plugin's state, for statuslines and tests. enabled: suggestions are on in the
# current buffer, else off says why ('disabled', 'buffer', 'filetype'). suggestion.index (1-based) is which of
# the suggestion.count suggestions offered at the cursor is shown; suggestion.text what is left of
# its item after partial accepts, suggestion.accepted what they wrote (UTF-16 code units).
export def State(): dict<any>
  var s = empty(offered) ? {} : choices.Current(offered)
  return {
    enabled: Off(bufnr('%')) == '',
    off: Off(bufnr('%')),
    pending: empty(pending) ? 0 : pending.id,
    suggestion: empty(s) ? {} : {lnum: s.lnum, col: s.col, end_col: s.end_col, text: s.text, accepted: s.accepted, index: offered.index + 1, count: len(offered.list)},
    last: last,
  }
enddef

# The server's slipstream/status (docs/protocol.md); {} when it does not answer within 5 s.
export def Status(): dict<any>
  return get(server.Evaluate('slipstream/status', {}, 5000), 'result', {})
enddef

# ", still there: 92% after 30 s, 75% after 5 min" from slipstream/status's events.retention (the
# accepted characters still in the document at each checkpoint), for the checkpoints with
# accepted characters; '' when there are none.
export def FormatRetention(retention: any): string
  var checkpoints = type(retention) == v:t_dict ? get(retention, 'checkpoints', []) : []
  var parts: list<string> = []
  for c in type(checkpoints) == v:t_list ? checkpoints : []
    var accepted = type(c) == v:t_dict ? get(c, 'acceptedChars', 0) : 0
    if (type(accepted) != v:t_number && type(accepted) != v:t_float) || accepted <= 0
      continue
    endif
    var seconds = get(c, 'afterSeconds', 0)
    seconds = type(seconds) == v:t_float ? float2nr(round(seconds)) : seconds
    var after = seconds >= 60 && seconds % 60 == 0 ? printf('%d min', seconds / 60) : printf('%d s', seconds)
    add(parts, printf('%.0f%% after %s', 100.0 * get(c, 'retainedChars', 0) / accepted, after))
  endfor
  return empty(parts) ? '' : ', still there: ' .. join(parts, ', ')
enddef

# Prints the server's state, model, latency and counts, how much accepted text is still there,
# and whether suggestions are on in the current buffer (and why not).
export def PrintStatus()
  var status = Status()
  var here = Here(bufnr('%'))
  if empty(status)
    echomsg 'slipstream: not running (:SlipstreamLog shows why); ' .. here
    return
  endif
  var e = status.engine
  var model = type(e.model) == v:t_dict ? e.model.dir : '(no model)'
  var latency = status.latency.count > 0 ? printf('%.0f ms p50', status.latency.p50Ms) : 'no requests yet'
  var retention = FormatRetention(get(status.events, 'retention', {}))
  echomsg printf('slipstream %s: %s, %s, %s, %d shown, %d accepted%s; %s', status.version, e.state, model, latency, status.events.shown, status.events.accepted, retention, here)
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
