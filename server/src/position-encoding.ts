/**
 * Position encodings (LSP 3.17 `positionEncoding`): converts a line's character offset between the
 * negotiated unit (UTF-8 bytes, UTF-16 code units or code points) and UTF-16 code units, which is
 * what documents store. Lone surrogates count as one code point (3 UTF-8 bytes, as U+FFFD).
 * Offsets past the end of the line clamp to its end; callers that must reject them check first.
 */

export type PositionEncoding = 'utf-8' | 'utf-16' | 'utf-32';

/** Picks the first encoding the client offers that we support; UTF-16 when it offers none. */
export function negotiateEncoding(offered: readonly string[] | undefined): PositionEncoding {
  for (const e of offered ?? []) if (e === 'utf-8' || e === 'utf-16' || e === 'utf-32') return e;
  return 'utf-16';
}

function unitsOf(code: number, encoding: PositionEncoding): number {
  if (encoding === 'utf-32') return 1;
  // utf-8: code point byte length; a lone surrogate is written as U+FFFD (3 bytes).
  if (code < 0x80) return 1;
  if (code < 0x800) return 2;
  if (code < 0x10000) return 3;
  return 4;
}

/** UTF-16 column in `line` for a column given in `encoding` units (clamped to the line's end). */
export function toUtf16Column(line: string, column: number, encoding: PositionEncoding): number {
  if (encoding === 'utf-16') return Math.min(column, line.length);
  let units = 0;
  let i = 0;
  while (i < line.length && units < column) {
    const code = line.codePointAt(i)!;
    const width = code > 0xffff ? 2 : 1;
    units += unitsOf(code, encoding);
    if (units > column) break; // column falls inside a code point: stay before it
    i += width;
  }
  return i;
}

/** Column in `encoding` units for a UTF-16 column in `line`. */
export function fromUtf16Column(line: string, column: number, encoding: PositionEncoding): number {
  if (encoding === 'utf-16') return Math.min(column, line.length);
  let units = 0;
  let i = 0;
  const end = Math.min(column, line.length);
  while (i < end) {
    const code = line.codePointAt(i)!;
    units += unitsOf(code, encoding);
    i += code > 0xffff ? 2 : 1;
  }
  return units;
}
