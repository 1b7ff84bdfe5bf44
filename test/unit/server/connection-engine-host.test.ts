/**
 * ConnectionEngineHost (a shared daemon connection's view of the one engine host) over a FAKE
 * shared host: each connection's session keys carry its own prefix, so the same document in two
 * connections is two sessions and closing it in one leaves the other's; prefixed keys never
 * collide; dispose (the connection ended) closes every session the connection opened, including
 * one whose generation was still running; the keys remembered for that are bounded. Prefetches
 * (background generations) run on an idle shared engine and take no turn, so the connection's next
 * request reaches the shared host at once and ends them; so does a generation that became
 * background work after an early answer (GenerateRequest.becomesBackground). Branches decoded
 * together (generateTogether) are one generation: one turn.
 */
import { describe, expect, it } from 'vitest';
import type { GenerateRequest } from '../../../server/src/completion/engine-host.js';
import { ConnectionEngineHost, TRACKED_KEYS } from '../../../server/src/daemon/connection-engine-host.js';
import { FakeEngineHost } from '../../helpers/fake-engine.js';

const request = (key: string, signal = new AbortController().signal): GenerateRequest => ({
  key,
  prompt: Int32Array.of(16 + 97),
  maxTokens: 4,
  stopTokens: [],
  temperature: 0,
  signal,
});

async function drain(gen: AsyncGenerator<unknown, unknown, void>): Promise<void> {
  for await (const _ of gen);
}

describe('ConnectionEngineHost', () => {
  it('prefetches when the shared engine is idle; its next request is not queued behind the prefetch, and ends it', async () => {
    const shared = new FakeEngineHost();
    shared.prefetches = true;
    const a = new ConnectionEngineHost(shared);
    expect(a.canPrefetch()).toBe(true);
    const release = shared.hold();
    const bgStarted = shared.nextStart();
    const bg = drain(a.generate({ ...request('file:///a.ts'), background: true }));
    const bgCall = await bgStarted;
    expect(a.canPrefetch()).toBe(false); // the engine is busy
    const fgStarted = shared.nextStart();
    const fg = drain(a.generate(request('file:///a.ts')));
    // reaches the shared host while the prefetch is still held, which ends the prefetch
    const fgCall = await fgStarted;
    expect(bgCall.signal.aborted).toBe(true);
    expect(fgCall.key).toBe(a.prefix + 'file:///a.ts');
    release();
    await Promise.all([bg, fg]);
    expect(fgCall.signal.aborted).toBe(false);
  });

  it('gives the turn back when a generation becomes background work (answered early); the next request ends it', async () => {
    const shared = new FakeEngineHost();
    const a = new ConnectionEngineHost(shared);
    const release = shared.hold();
    const firstStarted = shared.nextStart();
    const demote = new AbortController();
    const first = drain(a.generate({ ...request('file:///a.ts'), becomesBackground: demote.signal }));
    const firstCall = await firstStarted;
    demote.abort('answered');
    const nextStarted = shared.nextStart();
    const next = drain(a.generate(request('file:///b.ts')));
    // reaches the shared host while the first is still held (without the turn back it would wait for it), and ends it
    const nextCall = await nextStarted;
    expect(firstCall.signal.aborted).toBe(true);
    release();
    await Promise.all([first, next]);
    expect(nextCall.signal.aborted).toBe(false);
  });

  it('runs branches decoded together as one generation: one turn, under the connection\'s key', async () => {
    const shared = new FakeEngineHost();
    shared.together = true;
    const a = new ConnectionEngineHost(shared);
    expect(a.decodesTogether()).toBe(true);
    const release = shared.hold();
    const started = shared.nextStart();
    const branch = (seed: number) => ({ temperature: 0.8, seed, signal: new AbortController().signal });
    const together = drain(a.generateTogether(request('file:///a.ts'), [branch(1), branch(2)]));
    const call = await started;
    expect(call.key).toBe(a.prefix + 'file:///a.ts');
    let nextReached = false;
    const next = drain(a.generate(request('file:///b.ts')));
    void shared.nextStart().then(() => (nextReached = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(nextReached).toBe(false); // the branches hold the connection's turn
    release();
    await Promise.all([together, next]);
    expect(nextReached).toBe(true);
    expect(shared.togetherCalls).toEqual([2]);
  });

  it('keeps the turn of a foreground generation: the next request waits for it', async () => {
    const shared = new FakeEngineHost();
    const a = new ConnectionEngineHost(shared);
    const release = shared.hold();
    const firstStarted = shared.nextStart();
    const first = drain(a.generate({ ...request('file:///a.ts'), becomesBackground: new AbortController().signal }));
    const firstCall = await firstStarted;
    let nextReached = false;
    const nextStarted = shared.nextStart().then((c) => ((nextReached = true), c));
    const next = drain(a.generate(request('file:///b.ts')));
    await new Promise((r) => setTimeout(r, 20));
    expect(nextReached).toBe(false);
    release();
    await Promise.all([first, next, nextStarted]);
    expect(firstCall.signal.aborted).toBe(false);
  });

  it('never prefetches over a shared host that does not', () => {
    const shared = new FakeEngineHost(); // prefetches false: as a remote engine
    expect(new ConnectionEngineHost(shared).canPrefetch()).toBe(false);
  });

  it('gives the same document in two connections two sessions; a close in one leaves the other open', async () => {
    const shared = new FakeEngineHost();
    const a = new ConnectionEngineHost(shared);
    const b = new ConnectionEngineHost(shared);
    const uri = 'file:///same.ts';
    await drain(a.generate(request(uri)));
    await drain(b.generate(request(uri)));
    expect(shared.calls.map((c) => c.key)).toEqual([a.prefix + uri, b.prefix + uri]);
    expect(a.prefix).not.toBe(b.prefix);

    a.closeSession(uri);
    expect(shared.closed).toEqual([a.prefix + uri]);
    await drain(b.generate(request(uri)));
    expect(shared.calls.at(-1)!.key).toBe(b.prefix + uri);
    expect(shared.closed).toEqual([a.prefix + uri]);
  });

  it('never maps two (connection, key) pairs to one shared key, whatever the keys look like', () => {
    const shared = new FakeEngineHost();
    const hosts = Array.from({ length: 12 }, () => new ConnectionEngineHost(shared));
    const keys = ['', ':', 'x', '2:x', '12:x', 'c2:x', `${hosts[1]!.prefix}x`, 'file:///a.ts', 'slipstream:complete'];
    const seen = new Map<string, string>();
    for (const [i, h] of hosts.entries()) {
      for (const k of keys) {
        const sharedKey = h.prefix + k;
        expect(seen.get(sharedKey), `connection ${i}, key ${JSON.stringify(k)}`).toBeUndefined();
        seen.set(sharedKey, `${i} ${k}`);
      }
    }
    expect(seen.size).toBe(hosts.length * keys.length);
  });

  it('closes every session of the connection when it is disposed, and none of another connection', async () => {
    const shared = new FakeEngineHost();
    const a = new ConnectionEngineHost(shared);
    const b = new ConnectionEngineHost(shared);
    for (const uri of ['file:///1.ts', 'file:///2.ts', 'slipstream:complete']) await drain(a.generate(request(uri)));
    await drain(b.generate(request('file:///1.ts')));
    a.closeSession('file:///2.ts');
    shared.closed.length = 0;

    await a.dispose();
    expect(shared.closed.sort()).toEqual([a.prefix + 'file:///1.ts', a.prefix + 'slipstream:complete']);
    await b.dispose();
    expect(shared.closed.at(-1)).toBe(b.prefix + 'file:///1.ts');
  });

  it(`remembers at most ${TRACKED_KEYS} keys of a connection, closing the least recently used as it forgets it`, async () => {
    const shared = new FakeEngineHost();
    const a = new ConnectionEngineHost(shared);
    for (let i = 0; i < TRACKED_KEYS; i++) await drain(a.generate(request(`file:///${i}.ts`)));
    await drain(a.generate(request('file:///0.ts'))); // used again: now the most recent
    expect(shared.closed).toEqual([]);
    await drain(a.generate(request('file:///new.ts')));
    expect(shared.closed).toEqual([a.prefix + 'file:///1.ts']);
    await a.dispose();
    expect(shared.closed).toHaveLength(1 + TRACKED_KEYS);
    expect(shared.closed).toContain(a.prefix + 'file:///0.ts');
    expect(shared.closed).toContain(a.prefix + 'file:///new.ts');
  });

  it('closes the session of a generation that was running when the connection ended, once it ends', async () => {
    const shared = new FakeEngineHost();
    const a = new ConnectionEngineHost(shared);
    const release = shared.hold();
    const started = shared.nextStart();
    const ac = new AbortController();
    const running = drain(a.generate(request('file:///busy.ts', ac.signal)));
    await started;
    await a.dispose();
    expect(shared.closed).toEqual([a.prefix + 'file:///busy.ts']);
    // the connection's requests are cancelled as it ends (transport.ts): the generation stops,
    // and the session it may have made meanwhile is closed again
    ac.abort();
    await running;
    release();
    expect(shared.closed).toEqual([a.prefix + 'file:///busy.ts', a.prefix + 'file:///busy.ts']);
  });

  it('closes the session of a generation that was running when its document closed, once it ends', async () => {
    const shared = new FakeEngineHost();
    const a = new ConnectionEngineHost(shared);
    const release = shared.hold();
    const started = shared.nextStart();
    const running = drain(a.generate(request('file:///busy.ts')));
    await started;
    a.closeSession('file:///busy.ts');
    release();
    await running;
    expect(shared.closed).toEqual([a.prefix + 'file:///busy.ts', a.prefix + 'file:///busy.ts']);
  });
});
