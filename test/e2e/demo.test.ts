/**
 * `npm start` as a newcomer runs it (here with a 2-second budget, colours off): it types the
 * fixture file through the real server and ends with a summary and exit code 0.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/paths.js';

describe('npm start', () => {
  it('types the fixture file through the server and prints a summary', () => {
    const r = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'start.mjs'), '--seconds', '2', '--no-color'], { encoding: 'utf8', timeout: 50_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('Summary');
    expect(r.stdout).toMatch(/requests\s+\d+ in/);
    expect(r.stdout).toMatch(/latency\s+p50 [\d.]+ ms\s+p95 [\d.]+ ms/);
    expect(r.stdout).toContain('typed out exactly');
    expect(r.stdout).not.toMatch(/\x1b\[/);
  });
});
