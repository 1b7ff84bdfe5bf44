/**
 * Indentation the editor already typed is never repeated (#21): with the cursor in a line's
 * leading whitespace (after the indentation the editor put there, or inside it), the spaces and
 * tabs that start the completion are dropped, so the ghost text starts at the code. The safety net
 * behind token healing (token-healing.ts), which makes the model rewrite that indentation instead
 * of adding to it. At column 0 the model's indentation is kept: nothing was typed to repeat.
 */
import { linePrefix, type Filter } from './context.js';

export const dropTypedIndentation: Filter = (completion, ctx) => {
  const typed = linePrefix(ctx);
  if (typed === '' || /[^ \t]/.test(typed)) return completion;
  return completion.replace(/^[ \t]+/, '');
};
