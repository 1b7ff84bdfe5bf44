/**
 * SwitchingEngineHost with FAKE hosts: engine.backend "remote" routes every call to the remote
 * host, anything else to the native one; switching disposes the host left behind and a switch
 * back makes a fresh one.
 */
import { describe, expect, it } from 'vitest';
import { defaultSettings } from '../../../server/src/config.js';
import { SwitchingEngineHost } from '../../../server/src/completion/switching-engine-host.js';
import { Logger } from '../../../server/src/log.js';
import { FakeEngineHost } from '../../helpers/fake-engine.js';

describe('SwitchingEngineHost', () => {
  it('forwards to the host engine.backend chooses and disposes the one it leaves', async () => {
    const made: { kind: string; host: FakeEngineHost; disposed: boolean }[] = [];
    const make = (kind: string) => (): FakeEngineHost => {
      const host = new FakeEngineHost();
      const entry = { kind, host, disposed: false };
      host.dispose = async () => void (entry.disposed = true);
      made.push(entry);
      return host;
    };
    const sw = new SwitchingEngineHost(new Logger(() => {}), { native: make('native'), remote: make('remote') });
    const engine = defaultSettings().engine;

    sw.configure({ ...engine, model: '/m' });
    expect(made.map((m) => m.kind)).toEqual(['native']);
    await sw.ready();
    expect(sw.active).toBe(made[0]!.host);

    sw.configure({ ...engine, model: '/m', backend: 'remote' });
    expect(made.map((m) => m.kind)).toEqual(['native', 'remote']);
    expect(made[0]!.disposed).toBe(true);
    expect(made[1]!.host.configured.at(-1)?.backend).toBe('remote');
    const chunks = [];
    for await (const c of sw.generate({ key: 'k', prompt: Int32Array.from([20]), maxTokens: 3, stopTokens: [], temperature: 0, signal: new AbortController().signal })) chunks.push(c);
    expect(made[1]!.host.calls.length).toBe(1);
    expect(made[0]!.host.calls.length).toBe(0);
    sw.closeSession('k');
    expect(made[1]!.host.closed).toEqual(['k']);

    sw.configure({ ...engine, model: '/m', backend: 'cpu' });
    expect(made.map((m) => m.kind)).toEqual(['native', 'remote', 'native']);
    expect(made[1]!.disposed).toBe(true);
    await sw.dispose();
    expect(made[2]!.disposed).toBe(true);
  });
});
