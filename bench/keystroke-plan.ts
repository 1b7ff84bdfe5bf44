/**
 * Where `bench keystrokes` types, pure: K seeded spots inside non-blank lines of a file; at each
 * the next N characters of the line (never the newline) are deleted and then typed back one
 * code point at a time; or seeded line ends across several documents (bench prefetch, bench
 * alternatives). Also the summary statistics of a group of keystroke measurements.
 */
import { percentile } from '../server/src/percentile.js';
import { seededIds } from './lib/seeded-ids.js';

export interface Spot {
  /** UTF-16 offset of the cursor in the file. */
  offset: number;
  /** 0-based line of the cursor. */
  line: number;
  /** The text deleted after the cursor and typed back. */
  typed: string;
}

/**
 * `count` spots on distinct non-blank lines (a line repeats only when the file has fewer), the
 * cursor after the indentation and before the line's end, in the order the seed draws them.
 */
export function planSpots(text: string, count: number, chars: number, seed: number): Spot[] {
  const lines: { start: number; indent: number; end: number; line: number }[] = [];
  let start = 0;
  text.split('\n').forEach((l, line) => {
    const body = l.replace(/\r$/, '');
    const indent = body.length - body.trimStart().length;
    if (body.trim().length >= 2) lines.push({ start, indent, end: start + body.length, line });
    start += l.length + 1;
  });
  if (lines.length === 0) throw new Error('the file has no line with 2 or more characters to type');
  const draws = seededIds(2 * count + lines.length, 0, 1 << 30, seed);
  // a seeded shuffle of the candidate lines (Fisher-Yates), then cycled when count > lines
  const order = lines.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = draws[2 * count + i]! % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const spots: Spot[] = [];
  for (let k = 0; k < count; k++) {
    const l = lines[order[k % order.length]!]!;
    const first = l.start + l.indent;
    let offset = first + (draws[k]! % (l.end - first));
    // never split a surrogate pair
    if (/[\uDC00-\uDFFF]/.test(text[offset] ?? '')) offset--;
    const codePoints = [...text.slice(offset, l.end)].slice(0, chars);
    spots.push({ offset, line: l.line, typed: codePoints.join('') });
  }
  return spots;
}

/** A line's end in one of several documents. */
export interface LineEnd {
  doc: number;
  /** UTF-16 offset of the line's end. */
  offset: number;
}

/** `count` seeded line ends taken in turn from each of `texts` (planSpots' spots, moved to their line's end). */
export function planLineEnds(texts: string[], count: number, seed: number): LineEnd[] {
  const spots: LineEnd[] = [];
  for (let i = 0; spots.length < count; i++) {
    const doc = i % texts.length;
    const text = texts[doc]!;
    const s = planSpots(text, Math.ceil(count / texts.length), 0, seed + doc)[Math.floor(i / texts.length)];
    if (!s) break;
    const end = text.indexOf('\n', s.offset);
    spots.push({ doc, offset: end < 0 ? text.length : end });
  }
  return spots;
}

export interface LatencySummary {
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export function latencySummary(ms: number[]): LatencySummary {
  const mean = ms.length > 0 ? ms.reduce((a, b) => a + b, 0) / ms.length : 0;
  const at = (p: number): number => percentile(ms, p) ?? 0;
  return { mean, p50: at(50), p90: at(90), p99: at(99), max: at(100) };
}
