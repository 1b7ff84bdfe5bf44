/**
 * Line endings of suggestions: the pipeline works on `\n` (what the model and the filters see
 * after normalising), and a suggestion is written with the document's own line ending, taken
 * from the cursor's line (or the line before it on the last line). Pure functions.
 */

export type LineEnding = '\n' | '\r\n' | '\r';

/** The line ending of the line holding `offset`; of the line before it on the last line; else '\n'. */
export function lineEndingAt(text: string, offset: number): LineEnding {
  const next = /\r\n|\r|\n/g;
  next.lastIndex = offset;
  const m = next.exec(text);
  if (m) return m[0] as LineEnding;
  const lf = text.lastIndexOf('\n', offset - 1);
  const cr = text.lastIndexOf('\r', offset - 1);
  if (lf < 0 && cr < 0) return '\n';
  if (lf > cr) return lf > 0 && text[lf - 1] === '\r' ? '\r\n' : '\n';
  return '\r';
}

/** `s` with every CR LF as LF. */
export function toLf(s: string): string {
  return s.includes('\r\n') ? s.replace(/\r\n/g, '\n') : s;
}

/** `s` (LF line endings) with `eol` instead. */
export function withLineEnding(s: string, eol: LineEnding): string {
  return eol === '\n' ? s : s.replace(/\n/g, eol);
}
