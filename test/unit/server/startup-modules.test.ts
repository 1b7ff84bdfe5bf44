/**
 * What the built server (dist/, what `slipstream serve` runs) loads to start: no undici (the
 * remote backend's HTTP client, about a third of the modules it would load otherwise) until a
 * remote request is sent, not even when engine.backend "remote" is chosen; then it is loaded and
 * used (the request fails as it should against a port where nothing listens).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../helpers/paths.js';

const dist = join(repoRoot, 'dist', 'server', 'src');
const model = join(repoRoot, 'fixtures', 'models', 'slipstream-code');

/** Runs a script in a fresh node; it prints a JSON line on stderr, returned parsed. */
function run(script: string): Record<string, unknown> {
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stderr.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

describe('modules loaded at start', () => {
  it('loads undici only when a remote request is sent', () => {
    const out = run(`
      const undici = () => Object.keys(require.cache).filter((k) => k.includes('/node_modules/undici/')).length;
      require(${JSON.stringify(join(dist, 'cli', 'serve.js'))});
      const atStart = undici();
      const { SwitchingEngineHost } = require(${JSON.stringify(join(dist, 'completion', 'switching-engine-host.js'))});
      const { Logger } = require(${JSON.stringify(join(dist, 'log.js'))});
      const { defaultSettings } = require(${JSON.stringify(join(dist, 'config.js'))});
      const engine = defaultSettings().engine;
      const host = new SwitchingEngineHost(new Logger(() => {}));
      host.configure({ ...engine, backend: 'remote', model: ${JSON.stringify(model)}, remote: { ...engine.remote, url: 'http://127.0.0.1:1', timeoutMs: 5000 } });
      (async () => {
        await host.ready();
        const afterChoosing = undici();
        let code = '';
        try {
          const gen = host.generate({ key: 'k', prompt: new Int32Array([1, 2, 3]), maxTokens: 4, stopTokens: [], temperature: 0, signal: new AbortController().signal });
          for await (const _ of gen) {}
        } catch (e) {
          code = e.code;
        }
        process.stderr.write(JSON.stringify({ atStart, afterChoosing, afterRequest: undici(), code }) + '\\n');
        host.dispose();
      })();`);
    expect(out.atStart).toBe(0);
    expect(out.afterChoosing).toBe(0);
    expect(out.afterRequest).toBeGreaterThan(0);
    expect(out.code).toBe('ENGINE_REMOTE_UNREACHABLE');
  });
});
