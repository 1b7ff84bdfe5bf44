vim9script
# The connection to the Slipstream server: starts g:slipstream_command as a job whose stdio is a
# channel in "lsp" mode (Vim frames and parses the JSON-RPC messages), initializes it, keeps the
# server's copy of each attached buffer current (didOpen, full-text didChange before each request,
# didClose), sends requests, notifications and cancellations, and passes the server's
# notifications that a caller asked for (OnNotification) on to it. Knows nothing about suggestions.

var job: job = null_job
var channel: channel
var ready = false
var encoding = 'utf-16'
# buffer number (as a string) -> b:changedtick last sent, for the buffers the server has open
var versions: dict<number> = {}
# buffers to open once initialize is answered, with what to call then
var waiting: dict<func(number)> = {}
var log: list<string> = []
# server notification method -> what to call with its params (OnNotification)
var handlers: dict<func(any)> = {}
var start_failed = false

def Log(line: string)
  add(log, line)
  if len(log) > 200
    remove(log, 0, len(log) - 201)
  endif
enddef

# The server's window/logMessage lines and stderr, newest last.
export def LogLines(): list<string>
  return copy(log)
enddef

export def Running(): bool
  return job_status(job) == 'run'
enddef

export def Ready(): bool
  return ready && Running()
enddef

# The position encoding the server chose (the plugin offers utf-8 and utf-16).
export def Encoding(): string
  return encoding
enddef

# Percent-encodes one code point as its UTF-8 bytes.
def Percent(cp: number): string
  var bytes = cp < 0x80 ? [cp]
    : cp < 0x800 ? [0xC0 + cp / 64, 0x80 + cp % 64]
    : cp < 0x10000 ? [0xE0 + cp / 4096, 0x80 + (cp / 64) % 64, 0x80 + cp % 64]
    : [0xF0 + cp / 262144, 0x80 + (cp / 4096) % 64, 0x80 + (cp / 64) % 64, 0x80 + cp % 64]
  return join(mapnew(bytes, (_, b) => printf('%%%02X', b)), '')
enddef

export def Uri(path: string): string
  return 'file://' .. substitute(fnamemodify(path, ':p'), '[^A-Za-z0-9/._~-]', (m) => Percent(char2nr(m[0])), 'g')
enddef

def BufUri(bufnr: number): string
  return Uri(bufname(bufnr))
enddef

# The buffer as a client sends it: lines joined by the file's line ending, plus one when 'eol'.
def Text(bufnr: number): string
  var ff = getbufvar(bufnr, '&fileformat')
  var nl = ff == 'dos' ? "\r\n" : ff == 'mac' ? "\r" : "\n"
  return join(getbufline(bufnr, 1, '$'), nl) .. (getbufvar(bufnr, '&endofline') ? nl : '')
enddef

export def Notify(method: string, params: dict<any>)
  if Running()
    ch_sendexpr(channel, {method: method, params: params})
  endif
enddef

# Sends a request; Callback gets the response message. Returns the request id (0: not sent).
export def Request(method: string, params: dict<any>, Callback: func(dict<any>)): number
  if !Ready()
    return 0
  endif
  var sent = ch_sendexpr(channel, {method: method, params: params}, {callback: (_, msg) => Callback(msg)})
  return sent.id
enddef

# Sends $/cancelRequest for request id.
export def Cancel(id: number)
  Notify('$/cancelRequest', {id: id})
enddef

# Sends a request and waits for its response (at most timeout ms); {} on timeout.
export def Evaluate(method: string, params: dict<any>, timeout: number): dict<any>
  if !Ready()
    return {}
  endif
  return ch_evalexpr(channel, {method: method, params: params}, {timeout: timeout})
enddef

# Calls Handler with the params of each notification `method` the server sends (as they come:
# Handler checks them).
export def OnNotification(method: string, Handler: func(any))
  handlers[method] = Handler
enddef

export def IsOpen(bufnr: number): bool
  return Ready() && has_key(versions, string(bufnr))
enddef

# Opens bufnr on the server (now, or once it is initialized) and then calls Done(bufnr).
export def Open(bufnr: number, Done: func(number))
  if !ready
    waiting[string(bufnr)] = Done
    return
  endif
  if has_key(versions, string(bufnr))
    return
  endif
  var tick = getbufvar(bufnr, 'changedtick')
  var ft = getbufvar(bufnr, '&filetype')
  Notify('textDocument/didOpen', {textDocument: {uri: BufUri(bufnr), languageId: ft == '' ? 'plaintext' : ft, version: tick, text: Text(bufnr)}})
  versions[string(bufnr)] = tick
  Done(bufnr)
enddef

# Sends the buffer's text if it changed since the server last got it.
export def Sync(bufnr: number)
  var tick = getbufvar(bufnr, 'changedtick')
  if !IsOpen(bufnr) || versions[string(bufnr)] == tick
    return
  endif
  Notify('textDocument/didChange', {textDocument: {uri: BufUri(bufnr), version: tick}, contentChanges: [{text: Text(bufnr)}]})
  versions[string(bufnr)] = tick
enddef

export def Close(bufnr: number)
  silent! remove(waiting, string(bufnr))
  if IsOpen(bufnr)
    Notify('textDocument/didClose', {textDocument: {uri: BufUri(bufnr)}})
    remove(versions, string(bufnr))
  endif
enddef

def OnInitialize(ch: channel, msg: dict<any>)
  if has_key(msg, 'error')
    echomsg 'slipstream: initialize failed: ' .. get(msg.error, 'message', '')
    return
  endif
  encoding = get(get(msg.result, 'capabilities', {}), 'positionEncoding', 'utf-16')
  ch_sendexpr(channel, {method: 'initialized', params: {}})
  ready = true
  var pending = waiting
  waiting = {}
  for [key, Done] in items(pending)
    if bufexists(str2nr(key))
      Open(str2nr(key), Done)
    endif
  endfor
enddef

def OnMessage(ch: channel, msg: dict<any>)
  var method = get(msg, 'method', '')
  if has_key(msg, 'id') && method != ''
    # a request from the server: this client offers no server-to-client features
    ch_sendexpr(channel, {id: msg.id, error: {code: -32601, message: 'the Vim client does not handle ' .. method}})
  elseif has_key(handlers, method)
    handlers[method](get(msg, 'params', {}))
  elseif method == 'window/logMessage'
    Log(get(msg.params, 'message', ''))
  elseif method == 'window/showMessage'
    Log(get(msg.params, 'message', ''))
    if get(msg.params, 'type', 4) <= 2
      echomsg 'slipstream: ' .. get(msg.params, 'message', '')
    endif
  endif
enddef

def OnStderr(ch: channel, line: string)
  Log(line)
enddef

def OnExit(j: job, status: number)
  if j != job
    return # a server stopped before
  endif
  var started = ready
  ready = false
  versions = {}
  # a server that never came up is retried on the next buffer, but reported once
  if status != 0 && (started || !start_failed)
    start_failed = start_failed || !started
    echomsg printf('slipstream: the server exited with status %d (:SlipstreamLog shows its output)', status)
  endif
enddef

# Starts the server unless it runs; false when it cannot be started.
export def Start(): bool
  if Running()
    return true
  endif
  ready = false
  versions = {}
  try
    job = job_start(g:slipstream_command, {in_mode: 'lsp', out_mode: 'lsp', err_mode: 'nl', out_cb: OnMessage, err_cb: OnStderr, exit_cb: OnExit, noblock: true})
  catch
    Log(v:exception)
  endtry
  if job_status(job) != 'run'
    if !start_failed
      start_failed = true
      echomsg 'slipstream: could not start ' .. join(g:slipstream_command)
    endif
    return false
  endif
  channel = job_getchannel(job)
  ch_sendexpr(channel, {method: 'initialize', params: {
    processId: getpid(),
    clientInfo: {name: 'Vim', version: string(v:version)},
    rootUri: Uri(getcwd()),
    capabilities: {general: {positionEncodings: ['utf-8', 'utf-16']}, textDocument: {inlineCompletion: {dynamicRegistration: false}},
      experimental: {slipstream: {suggestionFinished: true}}},
    initializationOptions: extend(deepcopy(g:slipstream_settings), g:slipstream_init_options),
  }}, {callback: OnInitialize})
  return true
enddef

# Asks the server to shut down and exit.
export def Stop()
  if Ready()
    ch_evalexpr(channel, {method: 'shutdown'}, {timeout: 2000})
    Notify('exit', {})
  elseif Running()
    job_stop(job)
  endif
  # forget it now, so that the next Start() starts a new one even while this one is exiting
  job = null_job
  ready = false
  versions = {}
  waiting = {}
enddef
