/**
 * The mode-auto rule (decideMode: the mode and ReDrafter's tree shape from a fake calibration,
 * the candidate shapes, ties, the minimum speedup, explicit settings) and which model a host loads
 * for the settings (chooseModel): pure functions, checked against their documented rules
 * (docs/configuration.md).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applySettings, defaultSettings } from '../../../server/src/config.js';
import { chooseModel } from '../../../server/src/completion/default-model.js';
import {
  CALIBRATION_PROMPT_TOKENS,
  fileTokensAbove,
  calibratedFor,
  CANDIDATE_SHAPES,
  candidateShapes,
  decideMode,
  fastestShape,
  REDRAFTER_MIN_SPEEDUP,
  type Calibration,
  type ShapeFigures,
} from '../../../server/src/completion/mode-calibration.js';
import { repoRoot } from '../../helpers/paths.js';

/** A fake drafter default shape (the engine's CPU default). */
const DEFAULTS = { beams: 1, beamLength: 3 };
/** A fake shape measurement: [beams, beamLength, ms per token]. */
const shape = ([beams, beamLength, ms]: [number, number, number], ar: number): ShapeFigures => ({ beams, beamLength, msPerToken: ms, tokensPerStep: 2, speedup: ar / ms, rounds: 3 });
/** A fake calibration: plain decoding at `ar` ms/token and the given shapes. */
const fakeCalibration = (ar: number, shapes: [number, number, number][]): Calibration => ({ tokens: 32, promptTokens: 960, rounds: 3, arMsPerToken: ar, shapes: shapes.map((s) => shape(s, ar)), ms: 100, measuredAt: '2026-12-06T20:00:00.000Z', source: 'measured' });
/** A fake calibration with the one default shape at `rd` ms/token. */
const cal = (ar: number, rd: number): Calibration => fakeCalibration(ar, [[1, 3, rd]]);

describe('decideMode', () => {
  it('auto picks ReDrafter only when its fastest shape is at least REDRAFTER_MIN_SPEEDUP times faster', () => {
    expect(REDRAFTER_MIN_SPEEDUP).toBe(1.1);
    expect(decideMode('auto', DEFAULTS, cal(1.1, 1))).toMatchObject({ chosen: 'redrafter', shape: { beams: 1, beamLength: 3 } });
    expect(decideMode('auto', DEFAULTS, cal(1.09, 1))).toMatchObject({ chosen: 'ar', shape: null });
    expect(decideMode('auto', DEFAULTS, cal(0.5, 1))).toMatchObject({ chosen: 'ar', reason: expect.stringContaining('(0.50x) < 1.1x') });
    expect(decideMode('auto', DEFAULTS, cal(2, 1))).toMatchObject({ chosen: 'redrafter', reason: 'auto: ReDrafter M=1 L=3 1.00 ms/token vs plain 2.00 ms/token (2.00x) >= 1.1x' });
  });

  it('auto takes the fastest calibrated shape, not the drafter default', () => {
    const c = fakeCalibration(2, [[1, 2, 1.5], [1, 3, 1.6], [1, 4, 1.2], [2, 4, 1.9]]);
    const d = decideMode('auto', DEFAULTS, c);
    expect(d).toMatchObject({ chosen: 'redrafter', shape: { beams: 1, beamLength: 4 }, calibration: c });
    expect(d.reason).toBe('auto: ReDrafter M=1 L=4 1.20 ms/token vs plain 2.00 ms/token (1.67x) >= 1.1x, the fastest of 4 shapes');
    // a wide tree wins where verification rows are cheap
    expect(decideMode('auto', DEFAULTS, fakeCalibration(2, [[1, 2, 1.5], [1, 3, 1.4], [2, 4, 0.9]])).shape).toEqual({ beams: 2, beamLength: 4 });
  });

  it('the minimum speedup applies to the fastest shape: all shapes too slow is plain decoding', () => {
    const d = decideMode('auto', DEFAULTS, fakeCalibration(1, [[1, 2, 0.95], [1, 3, 0.92], [2, 4, 1.3]]));
    expect(d).toMatchObject({ chosen: 'ar', shape: null });
    expect(d.reason).toBe('auto: ReDrafter M=1 L=3 0.92 ms/token vs plain 1.00 ms/token (1.09x) < 1.1x, the fastest of 3 shapes: plain decoding');
  });

  it('a tie goes to the smaller tree, then the shallower one, whatever the order measured', () => {
    expect(fastestShape(fakeCalibration(2, [[2, 4, 1], [1, 4, 1], [1, 3, 1]]).shapes)).toMatchObject({ beams: 1, beamLength: 3 });
    // same size (M x L = 4): the shallower
    expect(fastestShape(fakeCalibration(2, [[2, 2, 1], [1, 4, 1]]).shapes)).toMatchObject({ beams: 2, beamLength: 2 });
    expect(fastestShape(fakeCalibration(2, [[1, 4, 1], [2, 2, 1]]).shapes)).toMatchObject({ beams: 2, beamLength: 2 });
    // faster beats smaller
    expect(fastestShape(fakeCalibration(2, [[1, 2, 1], [2, 4, 0.999]]).shapes)).toMatchObject({ beams: 2, beamLength: 4 });
    expect(fastestShape([])).toBeNull();
  });

  it('plain decoding without a drafter or a calibration, whatever the setting', () => {
    expect(decideMode('auto', null, null)).toMatchObject({ chosen: 'ar', shape: null, reason: 'no drafter is loaded: plain decoding' });
    expect(decideMode('redrafter', null, null)).toMatchObject({ chosen: 'ar', shape: null, reason: expect.stringContaining('no drafter is loaded') });
    expect(decideMode('auto', DEFAULTS, null)).toMatchObject({ chosen: 'ar', shape: null });
  });

  it('explicit modes are obeyed whatever the calibration says; "redrafter" runs the default shape unless set', () => {
    expect(decideMode('ar', DEFAULTS, cal(3, 1))).toMatchObject({ chosen: 'ar', shape: null });
    expect(decideMode('redrafter', DEFAULTS, cal(1, 3))).toMatchObject({ chosen: 'redrafter', shape: DEFAULTS, reason: 'engine.mode is "redrafter": M=1 L=3 (the drafter\'s default)' });
    expect(decideMode('redrafter', { beams: 16, beamLength: 5 }, null).shape).toEqual({ beams: 16, beamLength: 5 });
  });

  it('explicit engine.beams / engine.beamLength override the shape; 0 leaves that dimension to the rule', () => {
    // mode redrafter: a set dimension replaces the default's
    expect(decideMode('redrafter', DEFAULTS, null, { beams: 2, beamLength: 5 })).toMatchObject({ shape: { beams: 2, beamLength: 5 }, reason: expect.stringContaining('engine.beams / engine.beamLength') });
    expect(decideMode('redrafter', DEFAULTS, null, { beams: 0, beamLength: 6 }).shape).toEqual({ beams: 1, beamLength: 6 });
    expect(decideMode('redrafter', DEFAULTS, null, { beams: 4, beamLength: 0 }).shape).toEqual({ beams: 4, beamLength: 3 });
    // mode auto: only the calibrated shapes that fit count, and the minimum speedup still applies to them
    const c = fakeCalibration(2, [[1, 2, 1.0], [1, 3, 1.5], [2, 3, 1.7], [2, 4, 1.95]]);
    expect(decideMode('auto', DEFAULTS, c).shape).toEqual({ beams: 1, beamLength: 2 });
    expect(decideMode('auto', DEFAULTS, c, { beams: 2, beamLength: 0 })).toMatchObject({ chosen: 'redrafter', shape: { beams: 2, beamLength: 3 } });
    expect(decideMode('auto', DEFAULTS, c, { beams: 2, beamLength: 4 })).toMatchObject({ chosen: 'ar', shape: null, reason: expect.stringContaining('M=2 L=4 1.95 ms/token') });
    expect(decideMode('auto', DEFAULTS, c, { beams: 0, beamLength: 3 }).shape).toEqual({ beams: 1, beamLength: 3 });
    // a calibration that measured no shape fitting the settings decides nothing
    expect(decideMode('auto', DEFAULTS, c, { beams: 8, beamLength: 0 })).toMatchObject({ chosen: 'ar', reason: expect.stringContaining('no calibrated tree shape fits') });
  });
});

describe('fileTokensAbove: the file above the cursor of the calibration prompts', () => {
  it('fills the prompts up to the default prompt budget where the context and the prefill allow', () => {
    // 1024-token budget, 60-token bare prompts, a model of 4096 positions, a fast prefill
    expect(CALIBRATION_PROMPT_TOKENS).toBe(defaultSettings().completion.contextTokens);
    expect(fileTokensAbove(60, 4096, 0.01, 3)).toBe(CALIBRATION_PROMPT_TOKENS - 60);
  });
  it('leaves room for the completion in a short context', () => {
    // 1024 positions: 32 generated tokens and 16 spare
    expect(fileTokensAbove(60, 1024, 0.01, 3)).toBe(1024 - 32 - 16 - 60);
  });
  it('a slow prefill gets a shorter file: 3 prefills within about 600 ms', () => {
    expect(fileTokensAbove(60, 4096, 1, 3)).toBe(200);
    expect(fileTokensAbove(60, 4096, 10, 3)).toBe(20);
  });
  it('none where nothing fits; the room alone when the prefill measured nothing', () => {
    expect(fileTokensAbove(60, 100, 0.01, 3)).toBe(0);
    expect(fileTokensAbove(2000, 4096, 0.01, 3)).toBe(0);
    expect(fileTokensAbove(60, 4096, 0, 3)).toBe(CALIBRATION_PROMPT_TOKENS - 60);
  });
});

describe('candidateShapes', () => {
  it('the candidates and the drafter default, once each, in order', () => {
    expect(CANDIDATE_SHAPES.length).toBeGreaterThan(1);
    expect(candidateShapes(DEFAULTS)).toEqual(CANDIDATE_SHAPES);  // (1, 3) is one of them
    expect(candidateShapes({ beams: 16, beamLength: 5 })).toEqual([...CANDIDATE_SHAPES, { beams: 16, beamLength: 5 }]);
  });

  it('a set dimension replaces every candidate\'s; both set leaves one shape', () => {
    expect(candidateShapes(DEFAULTS, { beams: 2, beamLength: 0 })).toEqual([
      { beams: 2, beamLength: 2 },
      { beams: 2, beamLength: 3 },
      { beams: 2, beamLength: 4 },
    ]);
    expect(candidateShapes(DEFAULTS, { beams: 0, beamLength: 5 })).toEqual([
      { beams: 1, beamLength: 5 },
      { beams: 2, beamLength: 5 },
    ]);
    expect(candidateShapes(DEFAULTS, { beams: 3, beamLength: 6 })).toEqual([{ beams: 3, beamLength: 6 }]);
  });

  it('stays within the engine\'s bounds (1..64 beams, length 2..16)', () => {
    for (const s of candidateShapes({ beams: 99, beamLength: 40 })) {
      expect(s.beams).toBeGreaterThanOrEqual(1);
      expect(s.beams).toBeLessThanOrEqual(64);
      expect(s.beamLength).toBeGreaterThanOrEqual(2);
      expect(s.beamLength).toBeLessThanOrEqual(16);
    }
  });

  it('calibratedFor: a calibration is reused only for the shapes the settings ask for', () => {
    const c = fakeCalibration(2, candidateShapes(DEFAULTS).map((s) => [s.beams, s.beamLength, 1] as [number, number, number]));
    expect(calibratedFor(c, DEFAULTS, { beams: 0, beamLength: 0 })).toBe(true);
    expect(calibratedFor(c, DEFAULTS, { beams: 2, beamLength: 0 })).toBe(false);
    expect(calibratedFor(c, { beams: 16, beamLength: 5 }, { beams: 0, beamLength: 0 })).toBe(false);
  });
});

describe('engine.beams / engine.beamLength settings', () => {
  it('default 0 (auto); beams 0..64, beamLength 0 or 2..16; a bad value is refused with a warning and keeps the old one', () => {
    expect(defaultSettings().engine).toMatchObject({ beams: 0, beamLength: 0 });
    const ok = applySettings(defaultSettings(), { engine: { beams: 2, beamLength: 4 } });
    expect(ok.warnings).toEqual([]);
    expect(ok.settings.engine).toMatchObject({ beams: 2, beamLength: 4 });
    const bad = applySettings(ok.settings, { 'slipstream.engine.beams': 65, 'slipstream.engine.beamLength': 1 });
    expect(bad.settings.engine).toMatchObject({ beams: 2, beamLength: 4 });
    expect(bad.warnings).toEqual([
      'setting slipstream.engine.beams = 65 ignored: expected an integer 0..64',
      'setting slipstream.engine.beamLength = 1 ignored: expected 0 or an integer 2..16',
    ]);
    expect(applySettings(ok.settings, { engine: { beamLength: 0 } }).settings.engine.beamLength).toBe(0);
  });
});

describe('chooseModel', () => {
  const models = join(repoRoot, 'fixtures', 'models');

  it('no model configured: the shipped pair of this package', () => {
    expect(chooseModel({ model: '', drafter: '' })).toEqual({
      model: join(models, 'slipstream-code'),
      drafter: join(models, 'slipstream-code-drafter'),
      source: 'default',
      drafterSource: 'default',
    });
  });

  it('a configured model is used as given, with no drafter unless one is configured', () => {
    expect(chooseModel({ model: '/m', drafter: '' })).toEqual({ model: '/m', drafter: '', source: 'configured', drafterSource: 'none' });
    expect(chooseModel({ model: '/m', drafter: '/d' })).toEqual({ model: '/m', drafter: '/d', source: 'configured', drafterSource: 'configured' });
    expect(chooseModel({ model: '', drafter: '/d' })).toMatchObject({ model: join(models, 'slipstream-code'), drafter: '/d', drafterSource: 'configured' });
  });
});
