/**
 * What the server loads to start: the built server (dist/, what `slipstream serve` runs) loads no
 * module of the remote backend (and so not undici, tens of ms to load) until engine.backend
 * "remote" is chosen; then it does.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../helpers/paths.js';

const dist = join(repoRoot, 'dist', 'server', 'src');

/** Runs `code` in a fresh node after requiring the built serve command; prints which modules it loaded. */
function loaded(code: string): { undici: boolean; remote: boolean } {
  const script = `
    require(${JSON.stringify(join(dist, 'cli', 'serve.js'))});
    ${code}
    const ks = Object.keys(require.cache);
    process.stderr.write(JSON.stringify({ undici: ks.some((k) => k.includes('/undici/')), remote: ks.some((k) => k.includes('/completion/remote/')) }));`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stderr.trim().split('\n').at(-1)!);
}

describe('modules loaded at start', () => {
  it('loads the remote backend (undici) only when it is chosen', () => {
    expect(loaded('')).toEqual({ undici: false, remote: false });
    const choose = `
      const { SwitchingEngineHost } = require(${JSON.stringify(join(dist, 'completion', 'switching-engine-host.js'))});
      const { Logger } = require(${JSON.stringify(join(dist, 'log.js'))});
      const { defaultSettings } = require(${JSON.stringify(join(dist, 'config.js'))});
      new SwitchingEngineHost(new Logger(() => {})).configure({ ...defaultSettings().engine, backend: 'remote' });`;
    expect(loaded(choose)).toEqual({ undici: true, remote: true });
  });
});
