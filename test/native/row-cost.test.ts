/**
 * Prompt lookup's cost check (server/src/completion/row-cost.ts) on the real shipped model: the
 * measurement times forwards of 1 and 1 + k rows after a context of up to 256 tokens (all of them
 * on a model this small), leaves the model's other sessions and the model usable, and its verdict
 * follows LOOKUP_MAX_ROW_COST; the verdict and the reason status shows, on given figures; a second
 * host on the same files and cache file reads the check back instead of measuring.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Model } from '../../native/lib/index.js';
import { CalibrationStore } from '../../server/src/completion/calibration-store.js';
import { NativeEngineHost } from '../../server/src/completion/native-engine-host.js';
import { LOOKUP_MAX_ROW_COST, lookupPays, measureRowCost, rowCostReason, type RowCost } from '../../server/src/completion/row-cost.js';
import { defaultSettings } from '../../server/src/config.js';
import { Logger } from '../../server/src/log.js';
import { repoRoot } from '../helpers/paths.js';

let model: Model;
beforeAll(async () => {
  model = await Model.load(join(repoRoot, 'fixtures', 'models', 'slipstream-code'), { threads: 2 });
});
afterAll(() => model?.dispose());

describe('the check kept across starts', () => {
  it('a second start on the same files reads it back instead of measuring', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipstream-row-cost-'));
    try {
      let measured = 0;
      const counting = async (m: Model, rows: number): Promise<RowCost> => {
        measured += 1;
        return measureRowCost(m, rows);
      };
      const start = async (): Promise<NonNullable<ReturnType<NativeEngineHost['status']>['lookup']>> => {
        const host = new NativeEngineHost(new Logger(() => {}), new CalibrationStore(dir), counting);
        host.configure({ ...defaultSettings().engine, model: join(repoRoot, 'fixtures', 'models', 'slipstream-code'), mode: 'auto' });
        try {
          await host.ready();
          return host.status().lookup!;
        } finally {
          await host.dispose();
        }
      };
      const first = await start();
      expect(measured).toBe(1);
      expect(first.reason).not.toContain('earlier start');
      const second = await start();
      expect(measured).toBe(1);
      expect(second.on).toBe(first.on);
      expect(second.reason).toContain(`measured by an earlier start on ${new Date().toISOString().slice(0, 10)}`);
      expect(second.reason.replace(/, measured by an earlier start on [0-9-]+/, '')).toBe(first.reason);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('what a forward of many rows costs', () => {
  it('times 1 and 1 + k rows after a context on a session of its own', async () => {
    const other = model.createSession();
    await other.forward(Int32Array.from([1, 2, 3]));
    const c = await measureRowCost(model, 5);
    expect(c.rows).toBe(5);
    // the shipped model prefills all 256 tokens in 14-22 ms of the 60 ms budget; 8 + 32 + 32 at
    // least even on a machine busy enough to slow it tenfold
    expect(c.context).toBeGreaterThanOrEqual(72);
    expect(c.context).toBeLessThanOrEqual(256);
    expect(c.oneMs).toBeGreaterThan(0);
    expect(c.manyMs).toBeGreaterThan(0);
    expect(c.ratio).toBeCloseTo(c.manyMs / c.oneMs, 10);
    expect(c.ms).toBeGreaterThanOrEqual(c.oneMs + c.manyMs);
    expect(lookupPays(c)).toBe(c.ratio <= LOOKUP_MAX_ROW_COST);
    // the model's other sessions are untouched
    expect(other.length).toBe(3);
    other.dispose();
  });

  it('says its verdict with the figures', () => {
    const at = (ratio: number): RowCost => ({ rows: 5, context: 184, oneMs: 10, manyMs: 10 * ratio, ratio, ms: 300, measuredAt: '2026-12-07T11:00:00.000Z', source: 'measured' });
    expect(lookupPays(at(1.3))).toBe(true);
    expect(lookupPays(at(LOOKUP_MAX_ROW_COST))).toBe(true);
    expect(lookupPays(at(1.76))).toBe(false);
    expect(rowCostReason(at(1.3))).toBe('a forward of 5 rows costs 1.30x one row (13.00 / 10.00 ms after 184 tokens), at most 1.75x: on');
    expect(rowCostReason(at(1.8))).toBe('a forward of 5 rows costs 1.80x one row (18.00 / 10.00 ms after 184 tokens), over 1.75x: off');
    expect(rowCostReason({ ...at(1.3), source: 'cache' })).toBe(
      'a forward of 5 rows costs 1.30x one row (13.00 / 10.00 ms after 184 tokens, measured by an earlier start on 2026-12-07), at most 1.75x: on',
    );
  });
});
