/**
 * The calibration cache (calibration-store.ts): where it lives, what one entry keeps and for how
 * long, what its key changes with, and that a damaged file is ignored, never trusted.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  cacheDirPath,
  CALIBRATION_FILE_NAME,
  calibrationIdentity,
  CalibrationStore,
  isCalibration,
  isRowCost,
  MAX_AGE_MS,
  MAX_ENTRIES,
  type CalibrationSubject,
} from '../../../server/src/completion/calibration-store.js';
import type { Calibration } from '../../../server/src/completion/mode-calibration.js';
import type { RowCost } from '../../../server/src/completion/row-cost.js';

const T0 = Date.parse('2026-12-06T20:00:00.000Z');
/** A fake calibration measured at `at` with plain decoding at `ar` ms/token. */
const fake = (ar: number, at = T0): Calibration => ({
  tokens: 32, promptTokens: 976, rounds: 2, arMsPerToken: ar, ms: 420, measuredAt: new Date(at).toISOString(), source: 'measured',
  shapes: [{ beams: 1, beamLength: 2, msPerToken: 1.5, tokensPerStep: 1.6, speedup: ar / 1.5, rounds: 2 }],
});

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'slipstream-calibration-store-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('cacheDirPath', () => {
  it('takes SLIPSTREAM_CACHE_DIR, else an absolute XDG_CACHE_HOME, else ~/.cache, with slipstream/ under the XDG ones', () => {
    expect(cacheDirPath({ SLIPSTREAM_CACHE_DIR: '/x/c', XDG_CACHE_HOME: '/y' })).toBe('/x/c');
    expect(cacheDirPath({ XDG_CACHE_HOME: '/y' })).toBe('/y/slipstream');
    expect(cacheDirPath({ XDG_CACHE_HOME: 'relative' })).toBe(join(homedir(), '.cache', 'slipstream'));
    expect(cacheDirPath({})).toBe(join(homedir(), '.cache', 'slipstream'));
  });
});

describe('CalibrationStore', () => {
  it('gives back what it saved, marked as from the cache, only under its key', async () => {
    let now = T0 + 1000;
    const store = new CalibrationStore(join(dir, 'nested', 'cache'), () => now);
    expect(await store.find('k1')).toBeNull();
    await store.save('k1', 'model + drafter', fake(2));
    expect(await store.find('k1')).toEqual({ ...fake(2), source: 'cache' });
    expect(await store.find('k2')).toBeNull();
    // saved again under the same key: replaced, not added
    await store.save('k1', 'model + drafter', fake(3));
    expect((await store.find('k1'))!.arMsPerToken).toBe(3);
    const file = JSON.parse(readFileSync(join(dir, 'nested', 'cache', CALIBRATION_FILE_NAME), 'utf8')) as { entries: { key: string; what: string }[] };
    expect(file.entries.map((e) => [e.key, e.what])).toEqual([['k1', 'model + drafter']]);
    // a week later it is measured again; a date in the future is not believed
    now = T0 + MAX_AGE_MS + 1;
    expect(await store.find('k1')).toBeNull();
    now = T0 - 1;
    expect(await store.find('k1')).toBeNull();
  });

  it(`keeps the ${MAX_ENTRIES} newest entries`, async () => {
    const store = new CalibrationStore(dir, () => T0);
    for (let i = 0; i <= MAX_ENTRIES; i++) await store.save(`k${i}`, `entry ${i}`, fake(i + 1));
    expect(await store.find('k0')).toBeNull();
    expect((await store.find('k1'))!.arMsPerToken).toBe(2);
    expect((await store.find(`k${MAX_ENTRIES}`))!.arMsPerToken).toBe(MAX_ENTRIES + 1);
  });

  it('ignores a damaged file or entry and writes a good file over it', async () => {
    const store = new CalibrationStore(dir, () => T0);
    const file = join(dir, CALIBRATION_FILE_NAME);
    for (const text of ['{ not json', '[]', JSON.stringify({ version: 999, entries: [{ key: 'k', what: '', calibration: fake(2) }] }), '\u0000\u0001binary']) {
      writeFileSync(file, text);
      expect(await store.find('k')).toBeNull();
    }
    const bad: unknown[] = [
      { ...fake(2), arMsPerToken: Number.NaN },
      { ...fake(2), arMsPerToken: -1 },
      { ...fake(2), shapes: [] },
      { ...fake(2), shapes: [{ ...fake(2).shapes[0]!, beams: 0 }] },
      { ...fake(2), shapes: [{ ...fake(2).shapes[0]!, beamLength: 99 }] },
      { ...fake(2), measuredAt: 'yesterday' },
      { ...fake(2), tokens: 1.5 },
    ];
    for (const c of bad) expect(isCalibration(JSON.parse(JSON.stringify(c)))).toBe(false);
    expect(isCalibration(fake(2))).toBe(true);
    writeFileSync(file, JSON.stringify({ version: 1, entries: [...bad.map((c, i) => ({ key: `b${i}`, what: '', calibration: c })), { key: 'good', what: '', calibration: fake(4) }] }));
    for (let i = 0; i < bad.length; i++) expect(await store.find(`b${i}`)).toBeNull();
    expect((await store.find('good'))!.arMsPerToken).toBe(4);
    // saving keeps only the valid entries
    await store.save('k', 'x', fake(5));
    const kept = JSON.parse(readFileSync(file, 'utf8')) as { entries: { key: string }[] };
    expect(kept.entries.map((e) => e.key)).toEqual(['k', 'good']);
  });

  it('throws when it cannot write (the directory is a file), and leaves no temporary file', async () => {
    const blocker = join(dir, 'file');
    writeFileSync(blocker, 'x');
    await expect(new CalibrationStore(blocker).save('k', 'x', fake(2))).rejects.toThrow();
    const store = new CalibrationStore(join(dir, 'ok'));
    mkdirSync(join(dir, 'ok', CALIBRATION_FILE_NAME), { recursive: true }); // rename onto a directory fails
    await expect(store.save('k', 'x', fake(2))).rejects.toThrow();
    expect(readdirSync(join(dir, 'ok'))).toEqual([CALIBRATION_FILE_NAME]);
  });
});

describe('row-cost checks in the same file', () => {
  const cost = (ratio: number, at = T0): RowCost => ({ rows: 5, context: 256, oneMs: 10, manyMs: 10 * ratio, ratio, ms: 40, measuredAt: new Date(at).toISOString(), source: 'measured' });

  it('keeps them beside calibrations, each under its key, for as long', async () => {
    let now = T0 + 1000;
    const store = new CalibrationStore(dir, () => now);
    await store.save('cal', 'model + drafter', fake(2));
    await store.saveRowCost('rows', 'model, 5 rows', cost(1.7));
    expect(await store.findRowCost('rows')).toEqual({ ...cost(1.7), source: 'cache' });
    expect(await store.find('cal')).toEqual({ ...fake(2), source: 'cache' });
    // each kind only from its own entries
    expect(await store.findRowCost('cal')).toBeNull();
    expect(await store.find('rows')).toBeNull();
    await store.saveRowCost('rows', 'model, 5 rows', cost(1.2));
    expect((await store.findRowCost('rows'))!.ratio).toBe(1.2);
    now = T0 + MAX_AGE_MS + 1;
    expect(await store.findRowCost('rows')).toBeNull();
  });

  it('ignores an entry that is neither, or both, or a check with figures it cannot use', async () => {
    const good = cost(1.3);
    expect(isRowCost(good)).toBe(true);
    for (const bad of [{ ...good, rows: 1 }, { ...good, rows: 65 }, { ...good, ratio: -1 }, { ...good, oneMs: Number.NaN }, { ...good, measuredAt: 'then' }, { ...good, context: 0 }]) {
      expect(isRowCost(bad), JSON.stringify(bad)).toBe(false);
    }
    writeFileSync(join(dir, CALIBRATION_FILE_NAME), JSON.stringify({ version: 1, entries: [
      { key: 'both', what: 'x', calibration: fake(2), rowCost: good },
      { key: 'neither', what: 'x' },
      { key: 'bad', what: 'x', rowCost: { ...good, ratio: 'fast' } },
      { key: 'ok', what: 'x', rowCost: good },
    ] }));
    const store = new CalibrationStore(dir, () => T0 + 1000);
    for (const key of ['both', 'neither', 'bad']) {
      expect(await store.findRowCost(key), key).toBeNull();
      expect(await store.find(key), key).toBeNull();
    }
    expect(await store.findRowCost('ok')).toEqual({ ...good, source: 'cache' });
  });
});

describe('calibrationIdentity', () => {
  function subject(): CalibrationSubject {
    for (const d of ['model', 'drafter']) {
      mkdirSync(join(dir, d), { recursive: true });
      writeFileSync(join(dir, d, 'config.json'), '{}');
      writeFileSync(join(dir, d, 'model.safetensors'), 'weights');
    }
    writeFileSync(join(dir, 'addon.node'), 'addon');
    return {
      modelDir: join(dir, 'model'), drafterDir: join(dir, 'drafter'), addonPath: join(dir, 'addon.node'), version: '0.1.0',
      computeDtype: 'bf16', kernelPath: 'avx512bf16', threads: 2, kvDtype: 'bf16', shapes: [{ beams: 1, beamLength: 2 }, { beams: 2, beamLength: 4 }],
    };
  }

  it('is the same for the same files and engine, and changes with any of them', async () => {
    const s = subject();
    const base = (await calibrationIdentity(s)).key;
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect((await calibrationIdentity({ ...s })).key).toBe(base);
    expect((await calibrationIdentity(s)).what).toContain('avx512bf16, 2 threads');
    const changed: Partial<CalibrationSubject>[] = [
      { threads: 1 }, { kernelPath: 'avx2' }, { computeDtype: 'q8_0' }, { kvDtype: 'f32' }, { version: '0.2.0' },
      { shapes: [{ beams: 1, beamLength: 2 }] }, { modelDir: join(dir, 'drafter') },
    ];
    for (const c of changed) expect((await calibrationIdentity({ ...s, ...c })).key, JSON.stringify(c)).not.toBe(base);
    // a weight file rewritten (its size or time), a file added, the addon rebuilt
    writeFileSync(join(dir, 'model', 'model.safetensors'), 'weights, retrained');
    const k1 = (await calibrationIdentity(s)).key;
    expect(k1).not.toBe(base);
    utimesSync(join(dir, 'drafter', 'config.json'), new Date(T0), new Date(T0));
    const k2 = (await calibrationIdentity(s)).key;
    expect(k2).not.toBe(k1);
    writeFileSync(join(dir, 'drafter', 'generation_config.json'), '{}');
    const k3 = (await calibrationIdentity(s)).key;
    expect(k3).not.toBe(k2);
    utimesSync(join(dir, 'addon.node'), new Date(T0), new Date(T0));
    expect((await calibrationIdentity(s)).key).not.toBe(k3);
  });

  it('for a row-cost check: no drafter, and the rows in the key', async () => {
    const calibration = subject();
    const s = { ...calibration, drafterDir: null, shapes: [], rows: 5 };
    const base = await calibrationIdentity(s);
    expect(base.what).toContain('model, 5 rows, bf16 on avx512bf16');
    expect((await calibrationIdentity({ ...s, rows: 9 })).key).not.toBe(base.key);
    // a calibration of the same model is another key; the drafter's files do not matter to the check
    expect((await calibrationIdentity(calibration)).key).not.toBe(base.key);
    writeFileSync(join(dir, 'drafter', 'config.json'), '{"changed": true}');
    expect((await calibrationIdentity(s)).key).toBe(base.key);
  });

  it('fails (so the load measures without a cache) when a folder or the addon is gone', async () => {
    const s = subject();
    await expect(calibrationIdentity({ ...s, addonPath: join(dir, 'missing.node') })).rejects.toThrow();
    await expect(calibrationIdentity({ ...s, drafterDir: join(dir, 'missing') })).rejects.toThrow();
  });
});
