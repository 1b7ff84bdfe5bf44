/**
 * The shared daemon's pieces without a process: the token file (created 0600, refused when others
 * can read it or when it is not a token, never quoted), the constant-time comparison, a client's
 * settings on a shared daemon (engine scope refused, trace files only in the state directory), and
 * the connection limits.
 */
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applySettings, defaultSettings, SETTINGS_SPEC } from '../../server/src/config.js';
import { ConnectionLimits } from '../../server/src/daemon/connection-limits.js';
import { stateDirPath } from '../../server/src/daemon/state-dir.js';
import { readOrCreateToken, tokenMatches } from '../../server/src/daemon/token.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'slipstream-unit-'));
  dirs.push(d);
  return d;
};

describe('token file', () => {
  it('is created once with mode 0600 in a 0700 directory and read back unchanged', () => {
    const dir = join(tmp(), 'state');
    const t = readOrCreateToken(dir);
    expect(t).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(join(dir, 'token')).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(readOrCreateToken(dir)).toBe(t);
  });

  it('refuses a token file others can read, and one that is not a token, without quoting it', () => {
    const dir = tmp();
    chmodSync(dir, 0o700);
    writeFileSync(join(dir, 'token'), 'SECRET-CONTENTS', { mode: 0o644 });
    chmodSync(join(dir, 'token'), 0o644);
    expect(() => readOrCreateToken(dir)).toThrow(/can be read by other users \(mode 644\)/);
    chmodSync(join(dir, 'token'), 0o600);
    expect(() => readOrCreateToken(dir)).toThrow(/does not hold a token/);
    try {
      readOrCreateToken(dir);
    } catch (err) {
      expect((err as Error).message).not.toContain('SECRET');
    }
  });

  it('compares whole tokens only', () => {
    const t = 'a'.repeat(64);
    expect(tokenMatches(t, t)).toBe(true);
    expect(tokenMatches(t.slice(0, 63), t)).toBe(false);
    expect(tokenMatches(`${t}a`, t)).toBe(false);
    expect(tokenMatches(undefined, t)).toBe(false);
    expect(tokenMatches(42, t)).toBe(false);
  });

  it('lives in the state directory the flag, the environment or XDG names', () => {
    expect(stateDirPath('/x/y', {})).toBe('/x/y');
    expect(stateDirPath(undefined, { SLIPSTREAM_STATE_DIR: '/s' })).toBe('/s');
    expect(stateDirPath(undefined, { XDG_STATE_HOME: '/xdg' })).toBe('/xdg/slipstream');
    expect(stateDirPath(undefined, { XDG_STATE_HOME: 'relative' })).toMatch(/\.local\/state\/slipstream$/);
  });
});

describe('settings on a shared daemon', () => {
  it('gives every setting a scope, engine settings to the daemon', () => {
    for (const [name, spec] of Object.entries(SETTINGS_SPEC)) expect(spec.scope, name).toBe(name.startsWith('engine.') || name.startsWith('cache.') || name === 'trace.otlpEndpoint' ? 'engine' : 'client');
  });

  it("ignores a client's engine settings with a warning and keeps its completion settings", () => {
    const shared = { stateDir: '/state/slipstream' };
    const r = applySettings(defaultSettings(), { engine: { model: '/etc', mode: 'redrafter', remote: { url: 'http://x/' } }, completion: { maxTokens: 7 } }, shared);
    expect(r.settings.engine).toEqual(defaultSettings().engine);
    expect(r.settings.completion.maxTokens).toBe(7);
    expect(r.warnings.filter((w) => /ignored: on a shared daemon engine settings are the daemon's own/.test(w))).toHaveLength(3);
    // over stdio (no policy) the same source applies
    expect(applySettings(defaultSettings(), { engine: { model: '/m' } }).settings.engine.model).toBe('/m');
  });

  it('takes trace files only inside the state directory', () => {
    const shared = { stateDir: '/state/slipstream' };
    expect(applySettings(defaultSettings(), { trace: { file: 'mine.jsonl' } }, shared).settings.trace.file).toBe('/state/slipstream/mine.jsonl');
    for (const bad of ['/home/u/.bashrc', '../x', '/state/slipstream-other/x', '/state/slipstream']) {
      const r = applySettings(defaultSettings(), { trace: { file: bad } }, shared);
      expect(r.settings.trace.file, bad).toBe('');
      expect(r.warnings.join('\n')).toMatch(/trace\.file ignored: on a shared daemon a trace file must be inside/);
    }
  });
});

describe('connection limits', () => {
  it('counts per address and in total, and frees slots on release', () => {
    const l = new ConnectionLimits({ total: 3, perAddress: 2 });
    expect(l.acquire('a')).toBeNull();
    expect(l.acquire('a')).toBeNull();
    expect(l.acquire('a')).toMatch(/too many connections from a \(2 open, the limit is 2\)/);
    expect(l.acquire('b')).toBeNull();
    expect(l.acquire('c')).toMatch(/too many connections \(3 open, the limit is 3\)/);
    l.release('a');
    expect(l.acquire('c')).toBeNull();
    expect(l.count).toBe(3);
  });
});
