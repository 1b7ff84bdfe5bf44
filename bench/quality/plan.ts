/**
 * `bench quality`'s cases and scores, pure. A case cuts one line of a held-out file at the cursor:
 * 'line-start' puts the cursor after the line's indentation (indented lines only), 'mid-line' at a
 * seeded point inside the line's code; the rest of the line is removed from the document and is
 * the expected completion, the rest of the file stays after the cursor. Scores compare the
 * suggestion's first line with that expected text.
 */
import { mulberry32 } from '../../server/src/mulberry32.js';

export type CaseKind = 'line-start' | 'mid-line';

export interface QualityCase {
  file: string;
  kind: CaseKind;
  /** 0-based line of the cursor. */
  line: number;
  /** The document as the editor has it: the line cut at the cursor. */
  text: string;
  /** UTF-16 offset of the cursor in text. */
  offset: number;
  /** The rest of the line that was cut (what a perfect suggestion writes first). */
  expected: string;
}

interface Candidate {
  file: string;
  lines: string[];
  line: number;
  indent: number;
}

/** A line worth asking about: at least 4 characters of code, not only a closing bracket or a comment line. */
function worthAsking(body: string): boolean {
  const code = body.trim();
  return code.length >= 4 && !/^[)\]};,]+$/.test(code) && !code.startsWith('//') && !code.startsWith('*') && !code.startsWith('/*');
}

/**
 * `count` cases over the files (half line-start, half mid-line), drawn by `seed`: candidate lines
 * shuffled, each used once, the cut point of a mid-line case drawn inside its code.
 */
export function planCases(files: { name: string; text: string }[], count: number, seed: number): QualityCase[] {
  const rand = mulberry32(seed);
  const candidates: Candidate[] = [];
  for (const f of files) {
    const lines = f.text.replace(/\r\n/g, '\n').split('\n');
    lines.forEach((l, line) => {
      if (!worthAsking(l)) return;
      candidates.push({ file: f.name, lines, line, indent: l.length - l.trimStart().length });
    });
  }
  // Fisher-Yates with the seeded generator
  for (let i = candidates.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [candidates[i], candidates[j]] = [candidates[j]!, candidates[i]!];
  }
  const cases: QualityCase[] = [];
  const want = { 'line-start': Math.ceil(count / 2), 'mid-line': Math.floor(count / 2) };
  for (const c of candidates) {
    const kind: CaseKind | null = want['line-start'] > 0 && c.indent > 0 ? 'line-start' : want['mid-line'] > 0 ? 'mid-line' : null;
    if (!kind) continue;
    const body = c.lines[c.line]!;
    let cut = c.indent;
    if (kind === 'mid-line') {
      const code = body.length - c.indent;
      // after at least 2 characters of code, with at least 2 left to write
      if (code < 4) continue;
      cut = c.indent + 2 + Math.floor(rand() * (code - 3));
      if (/[\uDC00-\uDFFF]/.test(body[cut] ?? '')) cut--;
    }
    const before = c.lines.slice(0, c.line).join('\n');
    const head = (c.line > 0 ? `${before}\n` : '') + body.slice(0, cut);
    const tail = c.line + 1 < c.lines.length ? `\n${c.lines.slice(c.line + 1).join('\n')}` : '';
    cases.push({ file: c.file, kind, line: c.line, text: head + tail, offset: head.length, expected: body.slice(cut).trimEnd() });
    want[kind]--;
    if (want['line-start'] === 0 && want['mid-line'] === 0) break;
  }
  return cases;
}

/** A correct start shorter than the whole expected text is worth accepting from this many characters on. */
export const ACCEPT_MIN_CHARS = 6;

export interface CaseScore {
  /** The suggestion's first line equals the expected text (trailing whitespace aside). */
  exact: boolean;
  /**
   * A user would accept it: its first line is a non-empty start of the expected text (nothing
   * wrong in it), the whole of it or at least ACCEPT_MIN_CHARS characters.
   */
  acceptable: boolean;
  /** Characters of the expected text the suggestion's first line writes from the start. */
  matched: number;
  empty: boolean;
  /** The suggestion begins with a space or tab. */
  whitespaceLed: boolean;
}

export function scoreCase(expected: string, suggestion: string): CaseScore {
  const first = suggestion.split('\n')[0]!.trimEnd();
  let matched = 0;
  while (matched < expected.length && matched < first.length && first[matched] === expected[matched]) matched++;
  const exact = suggestion !== '' && first === expected;
  const acceptable = exact || (first.length >= ACCEPT_MIN_CHARS && matched === first.length);
  return { exact, acceptable, matched, empty: suggestion === '', whitespaceLed: /^[ \t]/.test(suggestion) };
}

export interface GroupScore {
  cases: number;
  exact_match: number;
  /** Share of cases whose suggestion a user would accept (CaseScore.acceptable). */
  acceptable: number;
  /** Sum of matched characters over the sum of expected characters. */
  chars_matched: number;
  empty: number;
  /** Over line-start cases only (null for a mid-line group). */
  whitespace_led_at_line_start: number | null;
}

export function summarizeScores(rows: { kind: CaseKind; expected: string; score: CaseScore }[]): GroupScore {
  const n = rows.length;
  const expectedChars = rows.reduce((s, r) => s + r.expected.length, 0);
  const starts = rows.filter((r) => r.kind === 'line-start');
  const share = (k: number, of: number): number => (of > 0 ? k / of : 0);
  return {
    cases: n,
    exact_match: share(rows.filter((r) => r.score.exact).length, n),
    acceptable: share(rows.filter((r) => r.score.acceptable).length, n),
    chars_matched: share(rows.reduce((s, r) => s + r.score.matched, 0), expectedChars),
    empty: share(rows.filter((r) => r.score.empty).length, n),
    whitespace_led_at_line_start: starts.length > 0 ? share(starts.filter((r) => r.score.whitespaceLed).length, starts.length) : null,
  };
}
