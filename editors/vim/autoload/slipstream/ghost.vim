vim9script
# The suggestion on screen and in the buffer: draws an inline completion item with text
# properties (virtual text before the cursor column, then one "below" line per following line,
# then a label such as " (2/3)" when there are alternatives) and applies it as one buffer edit on
# accept. Knows nothing about LSP. A suggestion is
# {bufnr, lnum, col, end_col, text}: replace bytes [col, end_col) (0-based) of line lnum with text.

const TYPE = 'SlipstreamSuggestion'

export def Setup()
  if empty(prop_type_get(TYPE))
    prop_type_add(TYPE, {highlight: 'SlipstreamSuggestion'})
  endif
enddef

# The lines of text ("\n" separated; a "\r" before a break is dropped: CRLF suggestions).
export def Lines(text: string): list<string>
  var lines = split(text, "\n", true)
  for i in range(len(lines) - 1)
    lines[i] = substitute(lines[i], '\r$', '', '')
  endfor
  return lines
enddef

# Virtual text shows a Tab as one space: expand Tabs to the columns they would take from vcol on.
def Expand(text: string, vcol: number): string
  if stridx(text, "\t") < 0
    return text
  endif
  var out = ''
  var width = vcol
  for ch in split(text, '\zs')
    if ch == "\t"
      var n = &tabstop - (width % &tabstop)
      out ..= repeat(' ', n)
      width += n
    else
      out ..= ch
      width += strdisplaywidth(ch)
    endif
  endfor
  return out
enddef

export def Clear(bufnr: number)
  if bufexists(bufnr) && bufloaded(bufnr)
    prop_remove({type: TYPE, bufnr: bufnr, all: true})
  endif
enddef

# Draws suggestion s, and label (may be '') after it; replaces any drawn before.
export def Show(s: dict<any>, label: string = '')
  Clear(s.bufnr)
  var line = getbufline(s.bufnr, s.lnum)[0]
  var tail = strpart(line, s.col)
  # what the lines from the cursor on read after accepting: the text, then what stays of the line
  var lines = Lines(s.text)
  lines[-1] ..= strpart(line, s.end_col)
  var first = lines[0]
  if len(lines) == 1 && strpart(first, len(first) - len(tail)) == tail
    # the line keeps its tail: show only what goes in front of it
    first = strpart(first, 0, len(first) - len(tail))
  endif
  # (a multi-line suggestion in mid-line moves the tail down; Vim cannot hide it on this line)
  var vcol = strdisplaywidth(strpart(line, 0, s.col))
  if first != ''
    prop_add(s.lnum, s.col + 1, {type: TYPE, bufnr: s.bufnr, text: Expand(first, vcol)})
  endif
  var below = mapnew(lines[1 :], (_, l) => Expand(l, 0))
  if label != '' && empty(below)
    # after the line's tail, which stays
    prop_add(s.lnum, 0, {type: TYPE, bufnr: s.bufnr, text: label, text_align: 'after'})
  elseif label != ''
    below[-1] ..= label
  endif
  for l in below
    prop_add(s.lnum, 0, {type: TYPE, bufnr: s.bufnr, text: l, text_align: 'below'})
  endfor
enddef

# Writes suggestion s into its buffer (the current one) and puts the cursor just after it.
export def Apply(s: dict<any>)
  var line = getline(s.lnum)
  var lines = Lines(s.text)
  var head = strpart(line, 0, s.col)
  var last = lines[-1]
  lines[0] = head .. lines[0]
  lines[-1] ..= strpart(line, s.end_col)
  setline(s.lnum, lines[0])
  if len(lines) > 1
    append(s.lnum, lines[1 :])
  endif
  var col = len(lines) == 1 ? len(head) + len(last) : len(last)
  cursor(s.lnum + len(lines) - 1, col + 1)
enddef
