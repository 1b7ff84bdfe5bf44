/**
 * Decoding mode `auto`: whether ReDrafter pays for this model, drafter and machine, and with which
 * tree shape (beams M, beam length L). At load, a short calibration completes three built-in code
 * prompts on one engine session with plain decoding and with ReDrafter at each candidate shape
 * (candidateShapes: a few narrow and one wider tree plus the drafter's default; greedy, the order
 * rotating over up to three rounds, the fastest round of each prompt and mode kept) and compares
 * decode time per token. The fastest shape is chosen (ties: the smaller tree); ReDrafter is chosen
 * when that shape is at least REDRAFTER_MIN_SPEEDUP times faster than plain decoding. The rule and
 * its figures are in docs/configuration.md and `slipstream/status`. Not a benchmark
 * (bench/redrafter.ts is): a few hundred ms on the shipped model.
 */
import type { Drafter, Model } from '../../../native/lib/index.js';
import type { DecodeMode } from '../config.js';
import type { TokenizerLike } from './engine-host.js';
import { detectPromptFormat, DOCUMENT_TEXT } from './prompt-format.js';

/** ReDrafter must decode at least this many times faster than plain decoding to be chosen. */
export const REDRAFTER_MIN_SPEEDUP = 1.1;
/** What the measured rounds may cost, roughly (after an 8-token warm-up of plain decoding and the largest tree). */
const BUDGET_MS = 300;
const WARMUP_TOKENS = 8;
const MIN_TOKENS = 12;
const MAX_TOKENS = 32;
/** Rounds: more while the budget lasts (each mode's figure is its fastest, so one slow run on a busy machine does not decide), at most ROUNDS. */
const MIN_ROUNDS = 1;
const ROUNDS = 3;
/** After a round, a shape this many times slower than the fastest one so far is not timed again. */
export const PRUNE_RATIO = 1.25;

/**
 * The code the calibration completes, [text before the cursor, text after it]: three places where
 * drafting is easy, middling and hard, since ReDrafter's gain depends on how predictable the text is.
 */
const SNIPPETS: [string, string][] = [
  [
    `export function parseHeaders(text: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of text.split('\\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    `,
    `
  }
  return headers;
}
`,
  ],
  [`import { readFileSync } from 'node:fs';\n\nexport function readJson(path: string): unknown {\n  `, `\n}\n`],
  [
    `export class Stack<T> {
  private items: T[] = [];

  push(item: T): void {
    this.items.push(item);
  }

  pop(): T | undefined {
    `,
    `
  }
}
`,
  ],
];

/** A ReDrafter tree: `beams` (M) drafted beams of `beamLength` (L) tokens, the guaranteed one included. */
export interface TreeShape {
  beams: number;
  beamLength: number;
}

/** The engine's bounds (native/lib/session.ts): 1 <= M <= 64, 2 <= L <= 16. */
export const MAX_BEAMS = 64;
export const MIN_BEAM_LENGTH = 2;
export const MAX_BEAM_LENGTH = 16;

/**
 * The shapes mode auto tries besides the drafter's default. On CPUs each extra verification row
 * costs compute, so narrow trees win there (2-core AVX2 machine, shipped pair, 2026-12-03: M=1 L=2
 * 1.46x plain, L=3 1.43x, L=4 1.26x, M=2 L=4 0.93x, M=8 L=5 0.34x; an AVX-512 Xeon: best M=1 L=3
 * 1.42x, M=8 L=5 0.57x: docs/performance.md): three depths of a single beam, and one wider tree
 * for machines where many-row products are cheap (AMX, GPUs), so it is chosen where it pays.
 */
export const CANDIDATE_SHAPES: readonly TreeShape[] = [
  { beams: 1, beamLength: 2 },
  { beams: 1, beamLength: 3 },
  { beams: 1, beamLength: 4 },
  { beams: 2, beamLength: 4 },
];

/** One shape's calibration figures. */
export interface ShapeFigures extends TreeShape {
  /** Decode time per token (the prefill's first token excluded), the faster round per prompt, summed over the prompts. */
  msPerToken: number;
  /** Decoded tokens per decode step (forward pass), over the same runs. */
  tokensPerStep: number;
  /** The calibration's arMsPerToken / msPerToken. */
  speedup: number;
  /** Rounds it was timed in: fewer than the calibration's when it fell behind by PRUNE_RATIO. */
  rounds: number;
}

export interface Calibration {
  /** Tokens generated at most per timed run (a prompt's completion may stop earlier, the same way in every mode). */
  tokens: number;
  /** Timed rounds (each runs plain decoding and the shapes still in the running on every prompt). */
  rounds: number;
  /** Plain decoding's decode time per token, as ShapeFigures.msPerToken. */
  arMsPerToken: number;
  /** ReDrafter at each candidate shape, in the order measured. */
  shapes: ShapeFigures[];
  /** Wall time of the whole calibration, warm-up included. */
  ms: number;
}

/** The tree-shape settings (engine.beams, engine.beamLength): 0 = not set (auto). */
export type ShapeSetting = TreeShape;

export interface ModeDecision {
  /** The mode requests run in. */
  chosen: 'ar' | 'redrafter';
  /** The tree shape of ReDrafter generations (null with plain decoding). */
  shape: TreeShape | null;
  /** Why, in one line. */
  reason: string;
  /** Present when a calibration ran (mode auto with a drafter). */
  calibration: Calibration | null;
}

const NO_SHAPE_SETTING: ShapeSetting = { beams: 0, beamLength: 0 };
const same = (a: TreeShape, b: TreeShape): boolean => a.beams === b.beams && a.beamLength === b.beamLength;
/** "M=1 L=3". */
export const shapeName = (s: TreeShape): string => `M=${s.beams} L=${s.beamLength}`;

/** Whether a shape agrees with the settings (a dimension set to 0 agrees with anything). */
function fits(s: TreeShape, setting: ShapeSetting): boolean {
  return (setting.beams === 0 || s.beams === setting.beams) && (setting.beamLength === 0 || s.beamLength === setting.beamLength);
}

/**
 * The shapes a calibration measures: CANDIDATE_SHAPES and the drafter's default, each with the
 * dimensions the settings fix replaced by the set value, clamped to the engine's bounds, without
 * duplicates (both set: that one shape).
 */
export function candidateShapes(defaults: TreeShape, setting: ShapeSetting = NO_SHAPE_SETTING): TreeShape[] {
  const out: TreeShape[] = [];
  for (const c of [...CANDIDATE_SHAPES, defaults]) {
    const s = {
      beams: Math.min(MAX_BEAMS, Math.max(1, setting.beams || c.beams)),
      beamLength: Math.min(MAX_BEAM_LENGTH, Math.max(MIN_BEAM_LENGTH, setting.beamLength || c.beamLength)),
    };
    if (!out.some((o) => same(o, s))) out.push(s);
  }
  return out;
}

/**
 * The fastest of the measured shapes that fit the settings: the lowest msPerToken; a tie goes to
 * the smaller tree (fewer verification rows, M x L), then to the shallower one. Null when none fits.
 */
export function fastestShape(shapes: readonly ShapeFigures[], setting: ShapeSetting = NO_SHAPE_SETTING): ShapeFigures | null {
  let best: ShapeFigures | null = null;
  for (const s of shapes) {
    if (!fits(s, setting)) continue;
    if (
      !best ||
      s.msPerToken < best.msPerToken ||
      (s.msPerToken === best.msPerToken &&
        (s.beams * s.beamLength < best.beams * best.beamLength || (s.beams * s.beamLength === best.beams * best.beamLength && s.beamLength < best.beamLength)))
    )
      best = s;
  }
  return best;
}

/** Whether a calibration measured exactly the shapes candidateShapes gives for these defaults and settings. */
export function calibratedFor(calibration: Calibration, defaults: TreeShape, setting: ShapeSetting): boolean {
  const want = candidateShapes(defaults, setting);
  return want.length === calibration.shapes.length && want.every((w) => calibration.shapes.some((s) => same(s, w)));
}

/** The built-in prompts in the model's own format (fill-in-the-middle when it has the tokens). */
export function calibrationPrompts(tokenizer: TokenizerLike): { prompt: Int32Array; stopTokens: number[] }[] {
  const f = detectPromptFormat(tokenizer);
  return SNIPPETS.map(([before, after]) => {
    const p = Array.from(tokenizer.encode(before, DOCUMENT_TEXT));
    const s = Array.from(tokenizer.encode(after, DOCUMENT_TEXT));
    const ids =
      f.kind === 'prefix-only'
        ? [...f.bos, ...p]
        : f.order === 'spm'
          ? [...f.bos, f.prefix, f.suffix, ...s, f.middle, ...p]
          : [...f.bos, f.prefix, ...p, f.suffix, ...s, f.middle];
    return { prompt: Int32Array.from(ids), stopTokens: f.stopTokens };
  });
}

/**
 * Times plain decoding against ReDrafter at each shape on one session: every built-in prompt in
 * every mode (greedy, so all emit the same tokens), the order rotating per prompt and round, for
 * MIN_ROUNDS to ROUNDS rounds (no more once BUDGET_MS is spent); per prompt and mode the faster round
 * counts; decode times (the prefill excluded) and steps are summed over the prompts. After each
 * round a shape more than PRUNE_RATIO times slower than the fastest shape so far drops out (its
 * figures stay), so the later rounds refine the contenders within about today's time.
 */
export async function calibrate(model: Model, tokenizer: TokenizerLike, drafter: Drafter, shapes: readonly TreeShape[]): Promise<Calibration> {
  if (shapes.length === 0) throw new RangeError('calibrate needs at least one tree shape');
  const started = performance.now();
  const prompts = calibrationPrompts(tokenizer);
  const longest = Math.max(...prompts.map((p) => p.prompt.length));
  const session = model.createSession({ maxContext: Math.min(model.info.maxPositionEmbeddings, longest + MAX_TOKENS + 16) });
  /** Mode 0 is plain decoding, mode k > 0 ReDrafter at shapes[k - 1]. */
  const modes = shapes.length + 1;
  try {
    const run = async (m: number, i: number, tokens: number): Promise<Timed> => {
      const { prompt, stopTokens } = prompts[i]!;
      const shape = shapes[m - 1];
      const gen = session.generate(prompt, {
        maxTokens: tokens, temperature: 0, stopTokens,
        ...(shape ? { mode: 'redrafter' as const, drafter, beams: shape.beams, beamLength: shape.beamLength } : { mode: 'ar' as const }),
      });
      let r = await gen.next();
      while (!r.done) r = await gen.next();
      return { ms: r.value.stats.decode_ms, tokens: Math.max(0, r.value.ids.length - 1), steps: Math.max(0, r.value.stats.forward_passes - 1) };
    };
    // the largest tree allocates the most; every later run then finds its buffers
    const largest = shapes.reduce((a, s, k) => (s.beams * s.beamLength > shapes[a]!.beams * shapes[a]!.beamLength ? k : a), 0);
    const warm = await run(0, 0, WARMUP_TOKENS);
    await run(largest + 1, 0, WARMUP_TOKENS);
    const perToken = warm.ms / Math.max(1, warm.tokens);
    const tokens = Math.max(MIN_TOKENS, Math.min(MAX_TOKENS, Math.floor(BUDGET_MS / (modes * ROUNDS * prompts.length * Math.max(perToken, 1e-3)))));
    const best: Timed[][] = Array.from({ length: modes }, () => prompts.map(() => ({ ms: Infinity, tokens: 0, steps: 0 })));
    const timedRounds = new Array<number>(modes).fill(0);
    const sum = (xs: Timed[], k: keyof Timed): number => xs.reduce((a, x) => a + x[k], 0);
    const msPerToken = (xs: Timed[]): number => sum(xs, 'ms') / Math.max(1, sum(xs, 'tokens'));
    let running = Array.from({ length: modes }, (_, m) => m);
    let rounds = 0;
    const measuring = performance.now();
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < prompts.length; i++) {
        for (let k = 0; k < running.length; k++) {
          const m = running[(round + i + k) % running.length]!;
          const r = await run(m, i, tokens);
          if (r.ms < best[m]![i]!.ms) best[m]![i] = r;
        }
      }
      for (const m of running) timedRounds[m]!++;
      rounds++;
      const fastest = Math.min(...running.filter((m) => m > 0).map((m) => msPerToken(best[m]!)));
      running = running.filter((m) => m === 0 || msPerToken(best[m]!) <= PRUNE_RATIO * fastest);
      if (rounds >= MIN_ROUNDS && performance.now() - measuring > BUDGET_MS) break;
    }
    const arMsPerToken = msPerToken(best[0]!);
    return {
      tokens,
      rounds,
      arMsPerToken,
      shapes: shapes.map((shape, k) => {
        const xs = best[k + 1]!;
        const ms = msPerToken(xs);
        const tokensPerStep = sum(xs, 'tokens') / Math.max(1, sum(xs, 'steps'));
        return { beams: shape.beams, beamLength: shape.beamLength, msPerToken: ms, tokensPerStep, speedup: arMsPerToken / ms, rounds: timedRounds[k + 1]! };
      }),
      ms: performance.now() - started,
    };
  } finally {
    session.dispose();
  }
}

interface Timed {
  ms: number;
  tokens: number;
  steps: number;
}

/** The drafter's default shape (Drafter.info.defaultBeams / defaultBeamLength), or null when no drafter is loaded. */
export type DrafterDefaults = TreeShape | null;

/**
 * The mode and tree shape for the settings, the loaded drafter's default shape (null: no drafter)
 * and the calibration (mode auto only). Mode "redrafter": the set shape, a dimension set to 0
 * taking the drafter's default. Mode auto: the fastest calibrated shape that fits the settings,
 * chosen when it beats plain decoding by REDRAFTER_MIN_SPEEDUP.
 */
export function decideMode(setting: DecodeMode, defaults: DrafterDefaults, calibration: Calibration | null, shapeSetting: ShapeSetting = NO_SHAPE_SETTING): ModeDecision {
  const ar = (reason: string): ModeDecision => ({ chosen: 'ar', shape: null, reason, calibration });
  if (setting === 'ar') return ar('engine.mode is "ar"');
  if (!defaults) return ar(`${setting === 'redrafter' ? 'engine.mode is "redrafter" but no drafter is loaded' : 'no drafter is loaded'}: plain decoding`);
  if (setting === 'redrafter') {
    const shape = { beams: shapeSetting.beams || defaults.beams, beamLength: shapeSetting.beamLength || defaults.beamLength };
    const from = shapeSetting.beams || shapeSetting.beamLength ? 'engine.beams / engine.beamLength' : "the drafter's default";
    return { chosen: 'redrafter', shape, reason: `engine.mode is "redrafter": ${shapeName(shape)} (${from})`, calibration };
  }
  if (!calibration) return ar('auto: not calibrated yet: plain decoding');
  const best = fastestShape(calibration.shapes, shapeSetting);
  if (!best) return ar('auto: no calibrated tree shape fits engine.beams / engine.beamLength yet: plain decoding');
  const shape = { beams: best.beams, beamLength: best.beamLength };
  const figures = `ReDrafter ${shapeName(shape)} ${best.msPerToken.toFixed(2)} ms/token vs plain ${calibration.arMsPerToken.toFixed(2)} ms/token (${best.speedup.toFixed(2)}x)`;
  const of = calibration.shapes.filter((s) => fits(s, shapeSetting)).length;
  const fastest = of > 1 ? `, the fastest of ${of} shapes` : '';
  return best.speedup >= REDRAFTER_MIN_SPEEDUP
    ? { chosen: 'redrafter', shape, reason: `auto: ${figures} >= ${REDRAFTER_MIN_SPEEDUP}x${fastest}`, calibration }
    : ar(`auto: ${figures} < ${REDRAFTER_MIN_SPEEDUP}x${fastest}: plain decoding`);
}
