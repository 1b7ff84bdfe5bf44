/**
 * Mode auto's tree-shape calibration on the real shipped pair (fixtures/models/slipstream-code and
 * its drafter): calibrate() returns figures for every candidate shape, the decision picks one of
 * them, and greedy completions at the chosen shape equal plain decoding's token for token. Through
 * NativeEngineHost: the load logs the shape, status carries the figures, a changed engine.beams
 * calibrates again without a reload, and the shape set in
 * engine.beams / engine.beamLength is the one every ReDrafter generation runs (its verified trees
 * are larger than the default's could be) with the same output as plain decoding.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Drafter, Model, Tokenizer, type GenerateOptions, type Session } from '../../native/lib/index.js';
import { defaultSettings, type Settings } from '../../server/src/config.js';
import {
  CALIBRATION_PROMPT_TOKENS,
  calibrate,
  calibrationPrompts,
  candidateShapes,
  decideMode,
  fastestShape,
  type Calibration,
  type TreeShape,
} from '../../server/src/completion/mode-calibration.js';
import { CALIBRATION_FILE_NAME, CalibrationStore } from '../../server/src/completion/calibration-store.js';
import { NativeEngineHost } from '../../server/src/completion/native-engine-host.js';
import type { EngineStep } from '../../server/src/trace/engine-steps.js';
import { Logger } from '../../server/src/log.js';
import { repoRoot } from '../helpers/paths.js';

const models = join(repoRoot, 'fixtures', 'models');
const shippedModel = join(models, 'slipstream-code');
const shippedDrafter = join(models, 'slipstream-code-drafter');

async function ids(session: Session, prompt: Int32Array, opts: GenerateOptions): Promise<number[]> {
  const gen = session.generate(prompt, opts);
  let r = await gen.next();
  while (!r.done) r = await gen.next();
  return Array.from(r.value.ids);
}

describe('mode auto calibration on the shipped pair', () => {
  let model: Model;
  let drafter: Drafter;
  let tokenizer: Tokenizer;
  beforeAll(async () => {
    model = await Model.load(shippedModel, { backend: 'cpu', threads: 2 });
    tokenizer = await Tokenizer.load(shippedModel);
    drafter = await Drafter.load(shippedDrafter, model);
  });
  afterAll(() => {
    drafter?.dispose();
    model?.dispose();
  });

  it('measures every candidate shape, picks one of them, and the chosen shape completes as plain decoding does', async () => {
    const defaults: TreeShape = { beams: drafter.info.defaultBeams, beamLength: drafter.info.defaultBeamLength };
    const shapes = candidateShapes(defaults);
    expect(shapes.length).toBeGreaterThan(1);
    const cal: Calibration = await calibrate(model, tokenizer, drafter, shapes);
    expect(cal.shapes.map((s) => ({ beams: s.beams, beamLength: s.beamLength }))).toEqual(shapes);
    // measured after a file above the cursor: longer than the bare snippets, within the budget and
    // the room a completion needs (this small model's prefill is fast enough for the whole file)
    const longestBare = Math.max(...calibrationPrompts(tokenizer).map((p) => p.prompt.length));
    expect(cal.promptTokens).toBeGreaterThan(longestBare + 200);
    expect(cal.promptTokens).toBeLessThanOrEqual(Math.min(CALIBRATION_PROMPT_TOKENS, model.info.maxPositionEmbeddings - 48));
    expect(cal.arMsPerToken).toBeGreaterThan(0);
    expect(cal.rounds).toBeGreaterThanOrEqual(1);
    for (const s of cal.shapes) expect(s.rounds).toBeGreaterThanOrEqual(1);
    expect(Math.max(...cal.shapes.map((s) => s.rounds))).toBe(cal.rounds);
    expect(cal.ms).toBeGreaterThan(0);
    for (const s of cal.shapes) {
      expect(s.msPerToken).toBeGreaterThan(0);
      expect(s.speedup).toBeCloseTo(cal.arMsPerToken / s.msPerToken, 10);
      // the trained drafter is right some of the time, and never more than the beam length per step
      expect(s.tokensPerStep).toBeGreaterThan(1);
      expect(s.tokensPerStep).toBeLessThanOrEqual(s.beamLength);
    }
    const best = fastestShape(cal.shapes)!;
    expect(shapes).toContainEqual({ beams: best.beams, beamLength: best.beamLength });
    const d = decideMode('auto', defaults, cal);
    expect(d.chosen).toBe(best.speedup >= 1.1 ? 'redrafter' : 'ar');
    if (d.chosen === 'redrafter') expect(d.shape).toEqual({ beams: best.beams, beamLength: best.beamLength });

    // greedy ReDrafter at the chosen shape (whether or not auto would run it) = plain decoding
    const session = model.createSession({ maxContext: 512 });
    try {
      const prompts = [
        ...calibrationPrompts(tokenizer).map((p) => p.prompt),
        tokenizer.encode('export function mean(values: number[]): number {\n  let sum = 0;\n', { addSpecialTokens: true }),
      ];
      for (const prompt of prompts) {
        const base: GenerateOptions = { maxTokens: 40, temperature: 0, stopTokens: [] };
        const plain = await ids(session, prompt, base);
        expect(plain.length).toBe(40);
        expect(await ids(session, prompt, { ...base, mode: 'redrafter', drafter, beams: best.beams, beamLength: best.beamLength })).toEqual(plain);
      }
    } finally {
      session.dispose();
    }
  }, 120_000);
});

describe('the calibration prompts', () => {
  it('put the same n tokens of the built-in file above every snippet, in the model\'s format', async () => {
    const tokenizer = await Tokenizer.load(shippedModel);
    const bare = calibrationPrompts(tokenizer);
    for (const n of [1, 300, 5000]) {
      const long = calibrationPrompts(tokenizer, n);
      expect(long.map((p) => p.stopTokens)).toEqual(bare.map((p) => p.stopTokens));
      const files = long.map((p, i) => {
        const b = Array.from(bare[i]!.prompt), l = Array.from(p.prompt);
        expect(l.length).toBe(b.length + n);
        // where the text before the cursor starts (after the suffix in the shipped model's SPM
        // order): the file's n tokens are there, the rest is the bare prompt
        let k = 0;
        while (k < b.length && l[k] === b[k]) k++;
        expect(l.slice(k + n)).toEqual(b.slice(k));
        return l.slice(k, k + n);
      });
      for (const f of files) expect(f).toEqual(files[0]);
      if (n === 300) expect(tokenizer.decode(Int32Array.from(files[0]!))).toContain('export function chunk<T>(items: readonly T[], size: number)');
    }
  });
});

describe('the tree shape through NativeEngineHost', () => {
  /**
   * A host on the shipped pair with these engine settings (and this calibration cache: none unless
   * given), its log lines, and a greedy completion that records its steps.
   */
  async function withHost<T>(
    engine: Partial<Settings['engine']>,
    f: (h: NativeEngineHost, log: string[], complete: (prompt: Int32Array) => Promise<{ ids: number[]; steps: EngineStep[] }>) => Promise<T>,
    calibrations: CalibrationStore | null = null,
  ): Promise<T> {
    const log: string[] = [];
    const host = new NativeEngineHost(new Logger((_, m) => log.push(m)), calibrations);
    host.configure({ ...defaultSettings().engine, threads: 2, ...engine });
    const complete = async (prompt: Int32Array): Promise<{ ids: number[]; steps: EngineStep[] }> => {
      const steps: EngineStep[] = [];
      const out: number[] = [];
      const gen = host.generate({
        key: 'doc', prompt, maxTokens: 40, stopTokens: [], temperature: 0, signal: new AbortController().signal, reuse: false,
        spans: { queued: () => {}, step: (s) => steps.push(s) },
      });
      for (let r = await gen.next(); !r.done; r = await gen.next()) out.push(...r.value);
      return { ids: out, steps };
    };
    try {
      await host.ready();
      return await f(host, log, complete);
    } finally {
      await host.dispose();
    }
  }
  const prompt = (h: NativeEngineHost): Promise<Int32Array> =>
    h.ready().then((m) => m.tokenizer.encode('export function mean(values: number[]): number {\n  let sum = 0;\n', { addSpecialTokens: true }));

  it('mode auto: the load logs the decision with its shape, status has the per-shape figures, completions equal plain decoding', async () => {
    const plain = await withHost({ mode: 'ar' }, async (h, _, complete) => (await complete(await prompt(h))).ids);
    expect(plain.length).toBe(40);
    await withHost({ mode: 'auto' }, async (h, log, complete) => {
      const d = h.status().modeDecision!;
      expect(d.calibration!.shapes.map((s) => [s.beams, s.beamLength])).toEqual([[1, 2], [1, 3], [1, 4], [2, 4]]);
      const line = log.find((l) => l.includes('decoding mode auto:'));
      expect(line).toMatch(/decoding mode auto: ReDrafter M=\d+ L=\d+ [\d.]+ ms\/token vs plain/);
      expect(line).toMatch(/calibration \d+ ms, \d+-token prompts: plain [\d.]+ ms\/token, M=1 L=2 [\d.]+ ms\/token [\d.]+ tokens\/step/);
      if (d.chosen === 'redrafter') expect(line).toContain(`ReDrafter M=${d.shape!.beams} L=${d.shape!.beamLength} `);
      const r = await complete(await prompt(h));
      expect(r.ids).toEqual(plain);
      if (d.chosen === 'redrafter') {
        const rows = d.shape!.beams * d.shape!.beamLength;
        for (const s of r.steps.filter((s) => s.kind === 'redrafter')) expect(s.stats?.treeSize ?? 0).toBeLessThanOrEqual(rows);
      }
      // engine.beams set after the load: no reload, the next request calibrates the shapes with 2 beams
      h.configure({ ...defaultSettings().engine, threads: 2, mode: 'auto', beams: 2 });
      expect((await complete(await prompt(h))).ids).toEqual(plain);
      const again = h.status().modeDecision!;
      expect(again.calibration).not.toBe(d.calibration);
      expect(again.calibration!.shapes.map((s) => [s.beams, s.beamLength])).toEqual([[2, 2], [2, 3], [2, 4]]);
      if (again.chosen === 'redrafter') expect(again.shape!.beams).toBe(2);
      expect(log.filter((l) => l.startsWith('slipstream: loaded '))).toHaveLength(1);
    });
  }, 120_000);

  it('a later start on the same pair takes the calibration from the cache; other shapes are measured and kept beside it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipstream-calibration-cache-'));
    try {
      const store = new CalibrationStore(dir);
      const first = await withHost({ mode: 'auto' }, async (h, log) => {
        const d = h.status().modeDecision!;
        expect(d.calibration!.source).toBe('measured');
        expect(log.find((l) => l.includes('decoding mode auto:'))).toMatch(/\(calibration \d+ ms, /);
        return d;
      }, store);
      // the calibrations kept (where plain decoding was chosen, the row-cost check of drafts without
      // a drafter is kept beside them: row-cost.ts)
      const calibrations = (): { what: string }[] =>
        (JSON.parse(readFileSync(join(dir, CALIBRATION_FILE_NAME), 'utf8')) as { entries: { what: string; calibration?: unknown }[] }).entries.filter((e) => e.calibration !== undefined);
      expect(calibrations()).toHaveLength(1);
      expect(calibrations()[0]!.what).toContain('slipstream-code-drafter');
      await withHost({ mode: 'auto' }, async (h, log, complete) => {
        const d = h.status().modeDecision!;
        // the same figures and decision, read back rather than measured
        expect(d.calibration).toEqual({ ...first.calibration!, source: 'cache' });
        expect({ chosen: d.chosen, shape: d.shape, reason: d.reason }).toEqual({ chosen: first.chosen, shape: first.shape, reason: first.reason });
        const line = log.find((l) => l.includes('decoding mode auto:'))!;
        expect(line).toContain(`calibration from ${join(dir, CALIBRATION_FILE_NAME)}, measured ${first.calibration!.measuredAt}`);
        // engine.beams set: those shapes are not in the cache, so they are measured, then kept too
        h.configure({ ...defaultSettings().engine, threads: 2, mode: 'auto', beams: 2 });
        await complete(await prompt(h));
        expect(h.status().modeDecision!.calibration!.source).toBe('measured');
      }, store);
      expect(calibrations()).toHaveLength(2);
      // another thread count is another machine as far as the calibration goes
      await withHost({ mode: 'auto', threads: 1 }, async (h) => expect(h.status().modeDecision!.calibration!.source).toBe('measured'), store);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('engine.beams / engine.beamLength set the shape every ReDrafter generation runs, with the same output', async () => {
    const plain = await withHost({ mode: 'ar' }, async (h, _, complete) => (await complete(await prompt(h))).ids);
    const trees = async (engine: Partial<Settings['engine']>): Promise<number[]> =>
      withHost({ mode: 'redrafter', ...engine }, async (h, _, complete) => {
        const r = await complete(await prompt(h));
        expect(r.ids).toEqual(plain);
        return r.steps.filter((s) => s.kind === 'redrafter').map((s) => s.stats!.treeSize!);
      });
    // the drafter's default on a CPU: one beam of 3, so never more than 3 tree tokens
    const byDefault = await trees({});
    expect(byDefault.length).toBeGreaterThan(0);
    expect(Math.max(...byDefault)).toBeLessThanOrEqual(3);
    // two beams of 4: up to 1 + 2 x 3 tokens, and two distinct beams make at least 5
    const wide = await trees({ beams: 2, beamLength: 4 });
    expect(Math.max(...wide)).toBeGreaterThan(3);
    expect(Math.max(...wide)).toBeLessThanOrEqual(8);
  }, 120_000);
});
