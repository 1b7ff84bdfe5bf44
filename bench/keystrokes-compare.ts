/**
 * Pairs the keystrokes of two `slipstream bench keystrokes --out` results typed on the same plan
 * (same file, spots, characters, seed): each keystroke's client latency in A and in B, over all
 * keystrokes and over those slower than a bound in A (where a setting such as
 * completion.timeBudgetMs can act), and the answers B gave at its time budget.
 *
 *   node dist/bench/keystrokes-compare.js A.json B.json [--over MS]
 */
import { readFileSync } from 'node:fs';
import type { KeystrokeBenchResult, KeystrokeRecord } from './keystrokes.js';

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
const key = (r: KeystrokeRecord): string => `${r.spot}/${r.keystroke}`;

export interface KeystrokePairs {
  pairs: number;
  median_ms: [number, number];
  total_ms: [number, number];
  /** Keystrokes slower than `over_ms` in A, and their medians in A and B. */
  over_ms: number;
  slow: number;
  slow_median_ms: [number, number];
  /** B's answers given at its time budget, their median latency and mean characters shown. */
  early: number;
  early_median_ms: number;
  early_mean_chars: number;
  /** Share of keystrokes whose ghost text began with the next character to type, in A and B. */
  predicted_next: [number, number];
}

export function compareKeystrokes(a: KeystrokeBenchResult, b: KeystrokeBenchResult, overMs: number): KeystrokePairs {
  const inB = new Map(b.requests.map((r) => [key(r), r]));
  const pairs = a.requests.filter((r) => inB.has(key(r))).map((r) => [r, inB.get(key(r))!] as const);
  if (pairs.length !== a.requests.length || pairs.length !== b.requests.length) throw new Error('the two results were typed on different plans (file, --spots, --chars, --seed)');
  const slow = pairs.filter(([x]) => x.latency_ms > overMs);
  const early = b.requests.filter((r) => r.early);
  const predicted = (rs: KeystrokeRecord[]): number => {
    const p = rs.filter((r) => r.predicted_next !== null);
    return p.length > 0 ? p.filter((r) => r.predicted_next).length / p.length : 0;
  };
  return {
    pairs: pairs.length,
    median_ms: [median(pairs.map(([x]) => x.latency_ms)), median(pairs.map(([, y]) => y.latency_ms))],
    total_ms: [sum(pairs.map(([x]) => x.latency_ms)), sum(pairs.map(([, y]) => y.latency_ms))],
    over_ms: overMs,
    slow: slow.length,
    slow_median_ms: [median(slow.map(([x]) => x.latency_ms)), median(slow.map(([, y]) => y.latency_ms))],
    early: early.length,
    early_median_ms: median(early.map((r) => r.latency_ms)),
    early_mean_chars: early.length > 0 ? sum(early.map((r) => r.suggestion.length)) / early.length : 0,
    predicted_next: [predicted(a.requests), predicted(b.requests)],
  };
}

function main(argv: string[]): number {
  const files = argv.filter((x, i) => !x.startsWith('--') && argv[i - 1] !== '--over');
  const i = argv.indexOf('--over');
  const over = i >= 0 ? Number(argv[i + 1]) : 0;
  if (files.length !== 2 || !(over >= 0)) {
    process.stderr.write('usage: keystrokes-compare A.json B.json [--over MS]\n');
    return 2;
  }
  const [a, b] = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as KeystrokeBenchResult) as [KeystrokeBenchResult, KeystrokeBenchResult];
  const c = compareKeystrokes(a, b, over);
  const ms = (x: number): string => `${x.toFixed(1)} ms`;
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
  process.stdout.write(
    [
      `keystrokes paired: ${c.pairs}`,
      `median latency A -> B: ${ms(c.median_ms[0])} -> ${ms(c.median_ms[1])}; total ${c.total_ms[0].toFixed(0)} -> ${c.total_ms[1].toFixed(0)} ms`,
      `slower than ${c.over_ms} ms in A: ${c.slow}, median ${ms(c.slow_median_ms[0])} -> ${ms(c.slow_median_ms[1])}`,
      `B answered at its time budget: ${c.early}, median ${ms(c.early_median_ms)}, ${c.early_mean_chars.toFixed(1)} characters shown on average`,
      `ghost text had the next char A -> B: ${pct(c.predicted_next[0])} -> ${pct(c.predicted_next[1])}`,
    ].join('\n') + '\n',
  );
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
