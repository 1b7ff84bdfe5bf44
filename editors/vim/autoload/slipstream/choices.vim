vim9script
# The suggestions offered at one cursor position and which of them is on screen, for cycling
# through alternatives (the next / previous keys). Pure data: a suggestion is ghost.vim's dict
# ({bufnr, lnum, col, end_col, text, ...}); two are the same when they replace the same range with
# the same text, and a set never holds the same one twice. A set is {list, index (0-based), complete}.

def Has(offered: dict<any>, s: dict<any>): bool
  for t in offered.list
    if t.text ==# s.text && t.end_col == s.end_col
      return true
    endif
  endfor
  return false
enddef

# Adds the suggestions of list that offered lacks, after its own; returns how many it added.
export def Add(offered: dict<any>, list: list<dict<any>>): number
  var added = 0
  for s in list
    if !Has(offered, s)
      add(offered.list, s)
      added += 1
    endif
  endfor
  return added
enddef

# A set of the suggestions in list (at least one), the first on screen. complete: they are all the
# server offers here (an invoked request's answer), so there is nothing more to ask for.
export def New(list: list<dict<any>>, complete: bool): dict<any>
  var offered = {list: [], index: 0, complete: complete}
  Add(offered, list)
  return offered
enddef

# The suggestion on screen.
export def Current(offered: dict<any>): dict<any>
  return offered.list[offered.index]
enddef

# Moves step (1: next, -1: previous) round the list; returns the suggestion then on screen.
export def Move(offered: dict<any>, step: number): dict<any>
  var n = len(offered.list)
  offered.index = ((offered.index + step) % n + n) % n
  return Current(offered)
enddef

# Which one is on screen, ' (2/3)', while there are several; '' otherwise.
export def Label(offered: dict<any>): string
  return len(offered.list) < 2 ? '' : printf(' (%d/%d)', offered.index + 1, len(offered.list))
enddef
