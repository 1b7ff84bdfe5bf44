/**
 * Stops a multi-line completion at the end of the current indentation scope (Tabby's
 * limitScopeByIndentation, llama.cpp's n_indent): a later line indented less than the cursor's
 * line ends it; when the completion's first line (or the cursor line) opens a block, a line back
 * at the cursor's indentation is kept only if it closes that block, and ends the completion.
 * Blank lines just before the cut go with it.
 */
import { indentWidth, linePrefix, type Filter } from './context.js';

const OPENS_BLOCK = /[{([:]\s*$|\b(do|then|begin)\s*$/;
const CLOSES_BLOCK = /^\s*([}\])]|end\b)/;

export const indentationScope: Filter = (completion, ctx) => {
  const lines = completion.split('\n');
  if (lines.length < 2) return completion;
  const cursorLine = linePrefix(ctx);
  // The cursor line's indentation (on a blank line: the whitespace typed so far).
  const ref = indentWidth(cursorLine);
  const firstLine = cursorLine + lines[0]!;
  const opens = OPENS_BLOCK.test(firstLine.trimEnd());
  // Lines before `end`, without the blank lines that separated them from what was cut.
  const keep = (end: number): string => {
    while (end > 1 && lines[end - 1]!.trim() === '') end--;
    return lines.slice(0, end).join('\n');
  };
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const w = indentWidth(line);
    if (w < ref) return keep(i);
    if (w === ref && opens) return CLOSES_BLOCK.test(line) ? keep(i + 1) : keep(i);
  }
  return completion;
};
