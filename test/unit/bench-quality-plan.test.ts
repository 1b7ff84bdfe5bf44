/**
 * `bench quality`'s cases and scores (bench/quality/plan.ts) on the committed held-out files: the
 * same seed gives the same cases, line-start cases sit after a non-empty indentation, every case's
 * document is the file with the rest of one line removed (the expected text), and the scores
 * count exact first lines, matched characters, empty and whitespace-led suggestions.
 */
import { describe, expect, it } from 'vitest';
import { qualityFiles } from '../../bench/quality/main.js';
import { planCases, scoreCase, summarizeScores } from '../../bench/quality/plan.js';
import { repoRoot } from '../helpers/paths.js';

describe('bench quality cases', () => {
  const files = qualityFiles(repoRoot);

  it('are seeded, half after indentation and half mid-line, each a file with one line cut at the cursor', () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
    const a = planCases(files, 40, 7);
    expect(planCases(files, 40, 7)).toEqual(a);
    expect(planCases(files, 40, 8)).not.toEqual(a);
    expect(a.filter((c) => c.kind === 'line-start')).toHaveLength(20);
    expect(a.filter((c) => c.kind === 'mid-line')).toHaveLength(20);
    for (const c of a) {
      const source = files.find((f) => f.name === c.file)!.text.replace(/\r\n/g, '\n');
      const line = source.split('\n')[c.line]!;
      const lineStart = c.text.lastIndexOf('\n', c.offset - 1) + 1;
      const typed = c.text.slice(lineStart, c.offset);
      expect((typed + c.expected).trimEnd()).toBe(line.trimEnd());
      // putting the line's rest back at the cursor gives the file again
      expect(c.text.slice(0, c.offset) + line.slice(typed.length) + c.text.slice(c.offset)).toBe(source);
      expect(c.expected.length).toBeGreaterThanOrEqual(2);
      if (c.kind === 'line-start') expect(typed).toMatch(/^[ \t]+$/);
      else expect(typed.trim().length).toBeGreaterThanOrEqual(2);
    }
  });

  it('score first lines', () => {
    expect(scoreCase('return x;', 'return x;\n}')).toEqual({ exact: true, acceptable: true, matched: 9, empty: false, whitespaceLed: false });
    // a correct start is acceptable from ACCEPT_MIN_CHARS characters on; anything wrong in it is not
    expect(scoreCase('return total / values.length;', 'return total')).toMatchObject({ exact: false, acceptable: true, matched: 12 });
    expect(scoreCase('return total / values.length;', 'retur')).toMatchObject({ acceptable: false, matched: 5 });
    expect(scoreCase('x;', 'x;')).toMatchObject({ exact: true, acceptable: true });
    expect(scoreCase('return total / values.length;', 'return totals')).toMatchObject({ acceptable: false, matched: 12 });
    expect(scoreCase('return x;', 'return y;')).toMatchObject({ exact: false, matched: 7 });
    expect(scoreCase('return x;', '    return x;')).toMatchObject({ exact: false, matched: 0, whitespaceLed: true });
    expect(scoreCase('return x;', '')).toMatchObject({ exact: false, matched: 0, empty: true });
    const s = summarizeScores([
      { kind: 'line-start', expected: 'ab', score: scoreCase('ab', 'ab') },
      { kind: 'line-start', expected: 'cd', score: scoreCase('cd', ' c') },
      { kind: 'mid-line', expected: 'efgh', score: scoreCase('efgh', 'ef') },
    ]);
    expect(s).toEqual({ cases: 3, exact_match: 1 / 3, acceptable: 1 / 3, chars_matched: 4 / 8, empty: 0, whitespace_led_at_line_start: 0.5 });
  });
});
