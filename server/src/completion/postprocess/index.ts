/**
 * The post-processing pipeline: the filters in order, then the replace range. Each filter is a
 * pure function in its own file with golden cases in fixtures/postprocess/<filter>/*.toml.
 */
import { balanceBrackets } from './balance-brackets.js';
import { lineSuffix, type Filter, type FilterContext } from './context.js';
import { cutRepetition } from './cut-repetition.js';
import { dropSuffixDuplicate } from './drop-suffix-duplicate.js';
import { dropTypedIndentation } from './drop-typed-indentation.js';
import { indentationScope } from './indentation-scope.js';
import { singleLine } from './single-line.js';
import { trimEnd } from './trim-end.js';

export type { FilterContext } from './context.js';

/** Every filter by the name its fixtures folder uses, in pipeline order. */
export const FILTERS: [string, Filter][] = [
  ['drop-typed-indentation', dropTypedIndentation],
  ['cut-repetition', cutRepetition],
  ['single-line', singleLine],
  ['indentation-scope', indentationScope],
  ['balance-brackets', balanceBrackets],
  ['drop-suffix-duplicate', dropSuffixDuplicate],
  ['trim-end', trimEnd],
];

export interface Processed {
  text: string;
  /** UTF-16 code units after the cursor the completion replaces (the rest of the line it matches). */
  replaceLength: number;
}

export function postprocess(raw: string, ctx: FilterContext): Processed {
  let text = raw;
  for (const [, filter] of FILTERS) {
    text = filter(text, ctx);
    if (text === '') return { text, replaceLength: 0 };
  }
  const rest = lineSuffix(ctx).trimEnd();
  const replaceLength = rest.trim() !== '' && text.endsWith(rest) ? rest.length : 0;
  return { text, replaceLength };
}
