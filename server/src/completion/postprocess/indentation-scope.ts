/**
 * Stops a multi-line completion at the end of the current indentation scope (Tabby's
 * limitScopeByIndentation, llama.cpp's n_indent): a later line indented less than the cursor's
 * line ends it; when the completion's first line (or the cursor line) opens a block, a line back
 * at the cursor's indentation is kept only if it closes that block, and ends the completion.
 */
import { indentWidth, linePrefix, type Filter } from './context.js';

const OPENS_BLOCK = /[{([:]\s*$|\b(do|then|begin)\s*$/;
const CLOSES_BLOCK = /^\s*([}\])]|end\b)/;

export const indentationScope: Filter = (completion, ctx) => {
  const lines = completion.split('\n');
  if (lines.length < 2) return completion;
  const cursorLine = linePrefix(ctx);
  const blank = cursorLine.trim() === '';
  const ref = blank ? indentWidth(cursorLine) : indentWidth(cursorLine);
  const firstLine = cursorLine + lines[0]!;
  const opens = OPENS_BLOCK.test(firstLine.trimEnd());
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const w = indentWidth(line);
    if (w < ref) return lines.slice(0, i).join('\n');
    if (w === ref && opens) {
      if (CLOSES_BLOCK.test(line)) return lines.slice(0, i + 1).join('\n');
      return lines.slice(0, i).join('\n');
    }
  }
  return completion;
};
