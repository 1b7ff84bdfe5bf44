/**
 * Trailing whitespace off the completion (and off every line of it); a completion of only
 * whitespace becomes empty. Leading whitespace is kept: it is indentation the model chose.
 */
import type { Filter } from './context.js';

export const trimEnd: Filter = (completion) => {
  if (completion.trim() === '') return '';
  return completion
    .split('\n')
    .map((l) => l.replace(/[ \t\r]+$/, ''))
    .join('\n')
    .replace(/\n+$/, '');
};
