vim9script
# Column conversions between Vim byte columns and LSP `character` offsets in the position encoding
# the server negotiated (utf-8, utf-16 or utf-32; docs/protocol.md, "Position encoding"). The
# plugin asks for utf-8, where both are bytes; the others are here for servers that answer
# otherwise. Columns are 0-based.

# UTF-8 bytes of code point n.
def Bytes(n: number): number
  return n < 0x80 ? 1 : n < 0x800 ? 2 : n < 0x10000 ? 3 : 4
enddef

def Units(n: number, encoding: string): number
  return encoding == 'utf-16' && n > 0xFFFF ? 2 : 1
enddef

# The LSP character offset of byte column col in line.
export def Character(line: string, col: number, encoding: string): number
  if encoding == 'utf-8'
    return col
  endif
  var count = 0
  for n in str2list(strpart(line, 0, col))
    count += Units(n, encoding)
  endfor
  return count
enddef

# The byte column of LSP character offset character in line, at most the line's length.
export def ByteCol(line: string, character: number, encoding: string): number
  if encoding == 'utf-8'
    return min([character, len(line)])
  endif
  var count = 0
  var col = 0
  for n in str2list(line)
    if count >= character
      break
    endif
    count += Units(n, encoding)
    col += Bytes(n)
  endfor
  return min([col, len(line)])
enddef
