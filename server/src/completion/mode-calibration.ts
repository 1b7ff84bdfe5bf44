/**
 * Decoding mode `auto`: whether ReDrafter pays for this model, drafter and machine, and with which
 * tree shape (beams M, beam length L). At load, a short calibration completes three built-in code
 * prompts, each with a file above the cursor (calibration-file.ts) up to about the default prompt
 * budget, on one engine session per prompt, with plain decoding and with ReDrafter at each
 * candidate shape (candidateShapes: a few narrow and one wider tree plus the drafter's default;
 * greedy, the order rotating over up to three rounds, the fastest round of each prompt and mode
 * kept) and compares decode time per token. The fastest shape is chosen (ties: the smaller tree);
 * ReDrafter is chosen when that shape is at least REDRAFTER_MIN_SPEEDUP times faster than plain
 * decoding. The rule and its figures are in docs/configuration.md and `slipstream/status`. Not a
 * benchmark (bench/redrafter.ts is): under a second on the shipped model.
 */
import type { Drafter, Model, Session } from '../../../native/lib/index.js';
import { defaultSettings, type DecodeMode } from '../config.js';
import { CALIBRATION_FILE } from './calibration-file.js';
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
 * The prompt length the calibration aims at: the default prompt budget (completion.contextTokens),
 * which a request fills wherever the file above the cursor is long. Attention, and so every
 * verified tree row, costs more with a longer context: on the shipped pair after 928 tokens M=1 L=2
 * ran 1.19x plain decoding and L=3 1.02x, on the bare snippets 1.08x and 1.06x (docs/performance.md).
 */
export const CALIBRATION_PROMPT_TOKENS = defaultSettings().completion.contextTokens;
/** What the prompts' prefills (one per prompt) may cost, roughly: a slower model calibrates with a shorter file above the cursor. */
const PREFILL_BUDGET_MS = 600;

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
  /** The longest prompt's tokens (the file above the cursor, the snippet around it and the format's tokens). */
  promptTokens: number;
  /** Timed rounds (each runs plain decoding and the shapes still in the running on every prompt). */
  rounds: number;
  /** Plain decoding's decode time per token, as ShapeFigures.msPerToken. */
  arMsPerToken: number;
  /** ReDrafter at each candidate shape, in the order measured. */
  shapes: ShapeFigures[];
  /** Wall time of the whole calibration, warm-up included. */
  ms: number;
  /** When it was measured (ISO 8601). */
  measuredAt: string;
  /** 'measured' by this server, or read from the calibration cache (calibration-store.ts) of an earlier start. */
  source: 'measured' | 'cache';
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

/**
 * Tokens of the file above the cursor: as many as bring the longest bare prompt (longestBare
 * tokens) to CALIBRATION_PROMPT_TOKENS, within the context left for a completion, and no more than
 * the prompts' prefills (prompts of them, msPerPromptToken each token as measured) can do in
 * PREFILL_BUDGET_MS. 0 when none fit.
 */
export function fileTokensAbove(longestBare: number, maxContext: number, msPerPromptToken: number, prompts: number): number {
  const room = Math.min(CALIBRATION_PROMPT_TOKENS, maxContext - MAX_TOKENS - 16) - longestBare;
  const affordable = msPerPromptToken > 0 ? Math.floor(PREFILL_BUDGET_MS / (Math.max(1, prompts) * msPerPromptToken)) : room;
  return Math.max(0, Math.min(room, affordable));
}

/** The last n tokens of CALIBRATION_FILE (repeated from its start when it is shorter). */
function fileAbove(tokenizer: TokenizerLike, n: number): number[] {
  if (n <= 0) return [];
  const file = Array.from(tokenizer.encode(CALIBRATION_FILE, DOCUMENT_TEXT));
  if (file.length === 0) return [];
  let ids = file;
  while (ids.length < n) ids = [...file, ...ids];
  return ids.slice(ids.length - n);
}

/**
 * The built-in prompts in the model's own format (fill-in-the-middle when it has the tokens), each
 * with fileTokens tokens of CALIBRATION_FILE above its snippet (0: the bare snippets).
 */
export function calibrationPrompts(tokenizer: TokenizerLike, fileTokens = 0): { prompt: Int32Array; stopTokens: number[] }[] {
  const f = detectPromptFormat(tokenizer);
  const above = fileAbove(tokenizer, fileTokens);
  return SNIPPETS.map(([before, after]) => {
    const p = [...above, ...Array.from(tokenizer.encode(before, DOCUMENT_TEXT))];
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
 * Times plain decoding against ReDrafter at each shape: every built-in prompt (with the file above
 * the cursor that fileTokensAbove allows, after a warm-up on the bare first snippet measured the
 * prefill) in every mode (greedy, so all emit the same tokens) on that prompt's own session (so
 * later runs reuse its prefill), the order rotating per prompt and round, for MIN_ROUNDS to ROUNDS
 * rounds (no more once BUDGET_MS is spent); per prompt and mode the faster round counts; decode
 * times (the prefill excluded) and steps are summed over the prompts. After each round a shape
 * more than PRUNE_RATIO times slower than the fastest shape so far drops out (its figures stay), so
 * the later rounds refine the contenders within about today's time.
 */
export async function calibrate(model: Model, tokenizer: TokenizerLike, drafter: Drafter, shapes: readonly TreeShape[]): Promise<Calibration> {
  if (shapes.length === 0) throw new RangeError('calibrate needs at least one tree shape');
  const started = performance.now();
  const maxContext = model.info.maxPositionEmbeddings;
  const bare = calibrationPrompts(tokenizer);
  const longestBare = Math.max(...bare.map((p) => p.prompt.length));
  const sessions: Session[] = [];
  const sessionFor = (length: number): Session => {
    const s = model.createSession({ maxContext: Math.min(maxContext, length + MAX_TOKENS + 16) });
    sessions.push(s);
    return s;
  };
  /** Mode 0 is plain decoding, mode k > 0 ReDrafter at shapes[k - 1]. */
  const modes = shapes.length + 1;
  try {
    const generate = async (session: Session, p: { prompt: Int32Array; stopTokens: number[] }, m: number, tokens: number): Promise<Timed> => {
      const shape = shapes[m - 1];
      const gen = session.generate(p.prompt, {
        maxTokens: tokens, temperature: 0, stopTokens: p.stopTokens,
        ...(shape ? { mode: 'redrafter' as const, drafter, beams: shape.beams, beamLength: shape.beamLength } : { mode: 'ar' as const }),
      });
      let r = await gen.next();
      while (!r.done) r = await gen.next();
      const st = r.value.stats;
      return {
        ms: st.decode_ms, tokens: Math.max(0, r.value.ids.length - 1), steps: Math.max(0, st.forward_passes - 1),
        prefillMsPerToken: st.prefill_ms / Math.max(1, st.prompt_tokens - st.reused_tokens),
      };
    };
    // warm-up on the bare first snippet, which measures the prefill's cost per token
    const warm = await generate(sessionFor(longestBare), bare[0]!, 0, WARMUP_TOKENS);
    const prompts = calibrationPrompts(tokenizer, fileTokensAbove(longestBare, maxContext, warm.prefillMsPerToken, bare.length));
    const promptTokens = Math.max(...prompts.map((p) => p.prompt.length));
    const own = prompts.map((p) => sessionFor(p.prompt.length));
    const run = (m: number, i: number, tokens: number): Promise<Timed> => generate(own[i]!, prompts[i]!, m, tokens);
    // the largest tree allocates the most; every later run then finds its buffers
    const largest = shapes.reduce((a, s, k) => (s.beams * s.beamLength > shapes[a]!.beams * shapes[a]!.beamLength ? k : a), 0);
    await run(largest + 1, 0, WARMUP_TOKENS);
    const perToken = warm.ms / Math.max(1, warm.tokens);
    const tokens = Math.max(MIN_TOKENS, Math.min(MAX_TOKENS, Math.floor(BUDGET_MS / (modes * ROUNDS * prompts.length * Math.max(perToken, 1e-3)))));
    const best: Timed[][] = Array.from({ length: modes }, () => prompts.map(() => ({ ms: Infinity, tokens: 0, steps: 0, prefillMsPerToken: 0 })));
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
      promptTokens,
      rounds,
      arMsPerToken,
      shapes: shapes.map((shape, k) => {
        const xs = best[k + 1]!;
        const ms = msPerToken(xs);
        const tokensPerStep = sum(xs, 'tokens') / Math.max(1, sum(xs, 'steps'));
        return { beams: shape.beams, beamLength: shape.beamLength, msPerToken: ms, tokensPerStep, speedup: arMsPerToken / ms, rounds: timedRounds[k + 1]! };
      }),
      ms: performance.now() - started,
      measuredAt: new Date().toISOString(),
      source: 'measured',
    };
  } finally {
    for (const s of sessions) s.dispose();
  }
}

interface Timed {
  ms: number;
  tokens: number;
  steps: number;
  /** The prefill's time per prompt token it computed (the reused ones excluded). */
  prefillMsPerToken: number;
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
