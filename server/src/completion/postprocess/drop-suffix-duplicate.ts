/**
 * Drops text the document already has after the cursor: a completion that only repeats the
 * start of the suffix becomes empty, and a multi-line completion is cut before the first of its
 * lines (after the first) that repeats the next non-blank line of the document (typically the
 * closing `}` that is already there).
 */
import type { Filter } from './context.js';

export const dropSuffixDuplicate: Filter = (completion, ctx) => {
  const c = completion.trim();
  if (c === '') return completion;
  const s = ctx.suffix.trimStart();
  if (s.startsWith(c)) return '';
  const nl = ctx.suffix.indexOf('\n');
  if (nl < 0) return completion;
  const next = ctx.suffix
    .slice(nl + 1)
    .split('\n')
    .find((l) => l.trim() !== '')
    ?.trim();
  if (next === undefined) return completion;
  const lines = completion.split('\n');
  for (let i = 1; i < lines.length; i++) {
    if (lines[i]!.trim() === next) return lines.slice(0, i).join('\n');
  }
  return completion;
};
