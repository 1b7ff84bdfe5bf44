vim9script
# Slipstream for Vim: the settings with their defaults, the autocommands that attach file buffers
# and follow typing, the Insert-mode keys and the commands (:SlipstreamEnable, :SlipstreamDisable,
# :SlipstreamToggle, :SlipstreamStatus, ...). The client itself is in autoload/ (loaded on the
# first buffer). Options and keys: editors/vim/README.md.

if exists('g:loaded_slipstream')
  finish
endif
g:loaded_slipstream = 1
if !has('patch-9.0.0121') || !has('job') || !has('channel') || !has('textprop')
  echomsg 'slipstream: needs Vim 9.0.0121 or later with +job, +channel and +textprop'
  finish
endif
if &encoding != 'utf-8'
  # the LSP positions sent are UTF-8 byte columns
  echomsg "slipstream: needs 'encoding' utf-8"
  finish
endif

# the server command: anything that speaks LSP on stdio (a later `serve --stdio --connect` too)
g:slipstream_command = get(g:, 'slipstream_command', ['slipstream', 'serve', '--stdio'])
# slipstream.* server settings (docs/configuration.md), sent as initializationOptions
g:slipstream_settings = get(g:, 'slipstream_settings', {})
# further initializationOptions, merged over the settings
g:slipstream_init_options = get(g:, 'slipstream_init_options', {})
# milliseconds without typing before a request (the server adds its own adaptive debounce)
g:slipstream_debounce_ms = get(g:, 'slipstream_debounce_ms', 50)
# filetypes to attach to: a list (empty: every buffer that has a file name), or a dict of
# filetype -> v:true/v:false, '*' for the others ({'*': v:true, markdown: v:false}; default on)
g:slipstream_filetypes = get(g:, 'slipstream_filetypes', [])
# false: no suggestions anywhere in this Vim (the commands below set it); b:slipstream_enabled =
# v:false turns them off in one buffer. The buffers stay open on the server.
g:slipstream_enabled = get(g:, 'slipstream_enabled', true)
# false: ask only when the trigger, next or prev key is pressed, never while typing
g:slipstream_auto_trigger = get(g:, 'slipstream_auto_trigger', true)
# Insert-mode keys; '' disables one. Without a suggestion a key does what it did before, but next
# and prev then ask for one (where the plugin serves the buffer and suggestions are on), as
# trigger does.
# next / prev: the next or previous alternative (the first press asks the server for them).
# accept_word / accept_line: write the suggestion's next word / line, the rest stays shown.
g:slipstream_keys = extend({accept: '<C-l>', accept_word: '', accept_line: '', dismiss: '<C-]>', trigger: '', next: '<M-]>', prev: '<M-[>'}, get(g:, 'slipstream_keys', {}))
# also accept with <Tab> while a suggestion is shown
g:slipstream_tab_accept = get(g:, 'slipstream_tab_accept', false)

highlight default link SlipstreamSuggestion Comment
import autoload 'slipstream/ghost.vim'
ghost.Setup()

augroup slipstream
  autocmd!
  autocmd BufEnter * slipstream#Attach(str2nr(expand('<abuf>')))
  autocmd BufUnload * slipstream#Detach(str2nr(expand('<abuf>')))
  autocmd TextChangedI,CursorMovedI * slipstream#OnEdit()
  autocmd InsertLeave,BufLeave * slipstream#Clear()
augroup END

# An Insert-mode key that runs action while condition holds (a suggestion is shown), and is itself
# otherwise.
def Map(lhs: string, action: string, condition = 'slipstream#HasSuggestion()')
  if lhs != ''
    execute printf('inoremap <silent><expr> %s %s ? "\<Cmd>call slipstream#%s()\<CR>" : "\%s"', lhs, condition, action, lhs)
  endif
enddef

Map(g:slipstream_keys.accept, 'Accept')
Map(g:slipstream_keys.accept_word, 'AcceptWord')
Map(g:slipstream_keys.accept_line, 'AcceptLine')
Map(g:slipstream_keys.dismiss, 'Dismiss')
# with no suggestion shown these ask for one: they fall through only where the plugin is not
# active (does not serve the buffer, or suggestions are off there)
Map(g:slipstream_keys.next, 'Next', 'slipstream#Active()')
Map(g:slipstream_keys.prev, 'Prev', 'slipstream#Active()')
Map(g:slipstream_keys.trigger, 'Trigger', 'slipstream#Active()')
if g:slipstream_tab_accept
  Map('<Tab>', 'Accept')
endif

command! SlipstreamEnable slipstream#Enable(true)
command! SlipstreamDisable slipstream#Enable(false)
command! SlipstreamToggle slipstream#Toggle()
command! SlipstreamStatus slipstream#PrintStatus()
command! SlipstreamLog slipstream#PrintLog()
command! SlipstreamStop slipstream#Stop()
