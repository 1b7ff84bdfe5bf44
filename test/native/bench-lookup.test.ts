/**
 * `slipstream bench lookup` on the shipped model, a few cases: the server's prompts through the
 * engine with and without lookup drafts, a JSON report whose greedy outputs are identical and
 * whose lookup variant accepted looked-up tokens (speed is not asserted: tests never time).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LookupBenchResult } from '../../bench/lookup.js';
import { cliPath } from '../helpers/paths.js';

const tmp = mkdtempSync(join(tmpdir(), 'bench-lookup-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('slipstream bench lookup', () => {
  it('reports plain and plain + lookup on the same prompts, with identical outputs', () => {
    const out = join(tmp, 'lookup.json');
    const r = spawnSync(process.execPath, [cliPath, 'bench', 'lookup', '--cases', '4', '--rounds', '1', '--max-tokens', '16', '--out', out], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('greedy outputs identical to plain: yes');
    const res = JSON.parse(readFileSync(out, 'utf8')) as LookupBenchResult;
    expect(res.cases).toBe(4);
    expect(res.identical_greedy_output).toBe(true);
    expect(res.variants.map((v) => v.name)).toEqual(['plain', 'plain+lookup']);
    expect(res.variants.every((v) => v.identical)).toBe(true);
    expect(res.variants[0]!.lookup_accepted).toBe(0);
    expect(res.variants[1]!.lookup_accepted).toBeGreaterThan(0);
    expect(res.variants[1]!.forward_passes_per_token).toBeLessThan(1);
  }, 120_000);
});
