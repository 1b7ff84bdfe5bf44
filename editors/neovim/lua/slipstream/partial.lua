-- How much of a suggestion's text the accept-word and accept-line keys write, in bytes of the
-- text (never inside a UTF-8 sequence): a word is what comes before the end of the text's next
-- run of 'iskeyword' characters (the current buffer's, as Vim's word motions use: the
-- blanks, punctuation and line breaks in front of it go with it); a line is up to and with the
-- next line break, or all of the text when there is none. At least one character either way.
local M = {}

-- Any characters other than keyword characters (line breaks too), then keyword characters.
local WORD = [[^\%(\k\@!\_.\)*\k\+]]

--- Bytes of `text` up to the end of its next word; all of it when it has no keyword character.
function M.word(text)
  local n = vim.fn.matchend(text, WORD)
  if n <= 0 then
    return #text
  end
  return n
end

--- Bytes of `text` up to and with its next line break ("\n", so "\r\n" whole); all of it when
--- there is none.
function M.line(text)
  local nl = text:find('\n', 1, true)
  return nl or #text
end

return M
