vim9script
# The test's hands in a Vim under test (test/editors/vim-session.ts): loads editors/vim with the
# settings in $SLIPSTREAM_TEST_CONFIG (and the partial-accept keys bound, further g:slipstream_*
# variables set as its "globals" say; Vim's channel log written where it says, if it does), connects back to the test over a JSON channel on
# $SLIPSTREAM_TEST_PORT, forwards the plugin's User events to it, and offers the functions the test
# calls through that channel (type keys, read the buffer, the cursor and the screen).

var config = json_decode(join(readfile($SLIPSTREAM_TEST_CONFIG), "\n"))
execute 'set runtimepath^=' .. fnameescape(config.plugin)
g:slipstream_command = config.command
g:slipstream_settings = config.settings
g:slipstream_debounce_ms = config.debounce_ms
# the partial-accept keys are unbound by default: bound here as the README shows
var globals: dict<any> = get(config, 'globals', {})
g:slipstream_keys = extend({accept_word: '<C-Right>', accept_line: '<C-Down>'}, get(globals, 'slipstream_keys', {}))
# further options as a vimrc sets them ({slipstream_auto_trigger: false, ...}; keys: added to the above)
extend(g:, filter(copy(globals), (name, _) => name != 'slipstream_keys'))
if get(config, 'channel_log', '') != ''
  # every message on every channel (the server's included), for tests that read what was sent
  ch_logfile(config.channel_log, 'w')
endif
filetype on
runtime plugin/slipstream.vim

var channel = ch_open('127.0.0.1:' .. $SLIPSTREAM_TEST_PORT, {mode: 'json'})

def Send(message: list<any>)
  ch_sendraw(channel, json_encode(message) .. "\n")
enddef

for name in config.events
  execute printf("autocmd User %s Send(['event', '%s'])", name, name)
endfor

# Keys in <> notation, queued as if typed. (These return a value for the channel's reply: a
# function without one is answered with "ERROR".)
def g:TestType(keys: string): bool
  feedkeys(substitute(keys, '<[^<>]\+>', (m) => eval('"\' .. m[0] .. '"'), 'g'), 't')
  return true
enddef

def g:TestAppend(lines: list<string>): bool
  append('$', lines)
  return true
enddef

def g:TestSnapshot(): dict<any>
  redraw
  var screen: list<string> = []
  for row in range(winline(), min([winline() + 11, &lines - 2]))
    screen->add(join(mapnew(range(1, &columns), (_, c) => screenstring(row, c)), '')->substitute('\s\+$', '', ''))
  endfor
  return {lines: getline(1, '$'), row: line('.') - 1, col: col('.') - 1, eol: &endofline, fileformat: &fileformat,
    tabstop: &tabstop, mode: mode(), screen: screen}
enddef

Send(['ready', v:version])
