/**
 * A session whose KV cache cannot be reserved (reliability.md N3, ENGINE_FAULT=alloc:kv in a child
 * process, since the engine reads ENGINE_FAULT once when it loads): the error says how many bytes
 * the cache wanted, and the CLI exits 1 with that one line instead of a bare status.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cliPath, stories260K } from '../helpers/paths.js';

describe('a KV cache that cannot be reserved', () => {
  it('is refused with the bytes it wanted', () => {
    const r = spawnSync(process.execPath, [cliPath, 'generate', '--model', stories260K, '--prompt', 'Zoo', '--max-tokens', '4'], {
      encoding: 'utf8',
      env: { ...process.env, ENGINE_FAULT: 'alloc:kv' },
    });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    const line = r.stderr.split('\n').find((l) => l.startsWith('slipstream generate:'));
    expect(line).toMatch(/^slipstream generate: cannot create a session: cannot reserve [1-9]\d* bytes for the KV cache$/);
    // without the fault the same command generates
    const ok = spawnSync(process.execPath, [cliPath, 'generate', '--model', stories260K, '--prompt', 'Zoo', '--max-tokens', '4'], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
  });
});
