/**
 * The mode-auto rule (decideMode) and which model a host loads for the settings (chooseModel):
 * pure functions, checked against their documented rules (docs/configuration.md).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseModel } from '../../../server/src/completion/default-model.js';
import { decideMode, REDRAFTER_MIN_SPEEDUP, type Calibration } from '../../../server/src/completion/mode-calibration.js';
import { repoRoot } from '../../helpers/paths.js';

const cal = (ar: number, rd: number): Calibration => ({ tokens: 32, rounds: 3, arMsPerToken: ar, redrafterMsPerToken: rd, speedup: ar / rd, ms: 100 });

describe('decideMode', () => {
  it('auto picks ReDrafter only when it is at least REDRAFTER_MIN_SPEEDUP times faster', () => {
    expect(REDRAFTER_MIN_SPEEDUP).toBe(1.1);
    expect(decideMode('auto', true, cal(1.1, 1)).chosen).toBe('redrafter');
    expect(decideMode('auto', true, cal(1.09, 1)).chosen).toBe('ar');
    expect(decideMode('auto', true, cal(0.5, 1))).toMatchObject({ chosen: 'ar', reason: expect.stringContaining('(0.50x) < 1.1x') });
    expect(decideMode('auto', true, cal(2, 1))).toMatchObject({ chosen: 'redrafter', reason: 'auto: ReDrafter 1.00 ms/token vs plain 2.00 ms/token (2.00x) >= 1.1x' });
  });

  it('plain decoding without a drafter or a calibration, whatever the setting', () => {
    expect(decideMode('auto', false, null)).toMatchObject({ chosen: 'ar', reason: 'no drafter is loaded: plain decoding' });
    expect(decideMode('redrafter', false, null)).toMatchObject({ chosen: 'ar', reason: expect.stringContaining('no drafter is loaded') });
    expect(decideMode('auto', true, null).chosen).toBe('ar');
  });

  it('explicit modes are obeyed whatever the calibration says', () => {
    expect(decideMode('ar', true, cal(3, 1)).chosen).toBe('ar');
    expect(decideMode('redrafter', true, cal(1, 3)).chosen).toBe('redrafter');
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
