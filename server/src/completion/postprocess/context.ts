/**
 * What every post-processing filter knows about the cursor: the text before and after it and
 * the single/multi-line policy. Filters are pure functions (completion, context) → completion.
 */
import type { MultilinePolicy } from '../../config.js';

export interface FilterContext {
  /** Text before the cursor (a window of the document is enough). */
  prefix: string;
  /** Text after the cursor (a window of the document is enough). */
  suffix: string;
  policy: MultilinePolicy;
}

export type Filter = (completion: string, ctx: FilterContext) => string;

/** The current line's text before the cursor. */
export function linePrefix(ctx: FilterContext): string {
  return ctx.prefix.slice(ctx.prefix.lastIndexOf('\n') + 1);
}

/** The current line's text after the cursor. */
export function lineSuffix(ctx: FilterContext): string {
  const nl = ctx.suffix.indexOf('\n');
  return (nl < 0 ? ctx.suffix : ctx.suffix.slice(0, nl)).replace(/\r$/, '');
}

/** The cursor is mid-line when non-blank text follows it on its line. */
export function isMidLine(ctx: FilterContext): boolean {
  return lineSuffix(ctx).trim() !== '';
}

/** Whether the policy allows a multi-line completion here ('auto': only at the end of a line). */
export function allowsMultiline(ctx: FilterContext): boolean {
  return ctx.policy === 'always' || (ctx.policy === 'auto' && !isMidLine(ctx));
}

/** Width of a line's indentation, a tab counting 4 columns. */
export function indentWidth(line: string): number {
  let w = 0;
  for (const ch of line) {
    if (ch === ' ') w += 1;
    else if (ch === '\t') w += 4;
    else break;
  }
  return w;
}
