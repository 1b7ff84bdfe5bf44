/**
 * A client that goes away: over stdio, closing stdin mid-request ends the server cleanly (no
 * crash, nothing but frames on stdout); over TCP, one client disconnecting mid-request leaves the
 * server and its other client working. Two TCP clients complete at the same time on one engine.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnStdio, spawnTcp } from '../helpers/spawn-server.js';
import { stories260K } from '../helpers/paths.js';

const model = ['--model', stories260K];
const kills: (() => void)[] = [];
afterEach(() => kills.splice(0).forEach((k) => k()));

const request = (uri: string, character: number) => ({ textDocument: { uri }, position: { line: 0, character }, context: { triggerKind: 1 } });

/** The JSON lines of `file` once it has `n` of them (polled: the server appends them). */
async function traceLines(file: string, n: number): Promise<{ outcome: string; totalMs: number; generatedTokens?: number }[]> {
  for (;;) {
    const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
    if (lines.length >= n) return lines.map((l) => JSON.parse(l));
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('clients that disconnect, and several at once', () => {
  it('ends a stdio server cleanly when the client closes stdin mid-request', async () => {
    const server = spawnStdio(model);
    kills.push(server.kill);
    await server.client.initialize({ completion: { debounceMs: 0 } });
    server.client.open('file:///a.txt', 'Once upon a time');
    server.client.send('textDocument/inlineCompletion', request('file:///a.txt', 16));
    server.child.stdin!.end();
    const { code, signal } = await server.exit;
    expect(signal).toBeNull();
    expect(code).toBe(1); // no shutdown was received
    expect(server.stderr()).not.toMatch(/TypeError|ReferenceError|Unhandled|at .*\.js:\d+/);
    expect(server.client.garbage).toEqual([]);
  });

  it('serves two TCP clients at once and survives one disconnecting mid-request', async () => {
    const server = await spawnTcp(model);
    kills.push(server.kill);
    const a = await server.connect();
    const b = await server.connect();
    await Promise.all([a.client.initialize({ completion: { debounceMs: 0 } }), b.client.initialize({ completion: { debounceMs: 0 } })]);
    a.client.open('file:///a.txt', 'Once upon a time');
    b.client.open('file:///b.txt', 'The little dog');
    const [ra, rb] = await Promise.all([
      a.client.request('textDocument/inlineCompletion', request('file:///a.txt', 16)),
      b.client.request('textDocument/inlineCompletion', request('file:///b.txt', 14)),
    ]);
    expect(Array.isArray(ra.items)).toBe(true);
    expect(Array.isArray(rb.items)).toBe(true);
    if (model.length > 0) {
      expect(ra.items[0].insertText.length).toBeGreaterThan(0);
      expect(rb.items[0].insertText.length).toBeGreaterThan(0);
    }
    // a goes away in the middle of a request; b carries on, and b's exit ends only b.
    a.client.send('textDocument/inlineCompletion', request('file:///a.txt', 16));
    a.socket.destroy();
    const again = await b.client.request('textDocument/inlineCompletion', request('file:///b.txt', 14));
    expect(Array.isArray(again.items)).toBe(true);
    expect(await b.client.request('shutdown')).toBeNull();
    b.client.notify('exit');
    await b.client.closed;
    const c = await server.connect();
    await c.client.initialize();
    expect((await c.client.request('slipstream/status')).version).toBeTypeOf('string');
    expect(server.child.exitCode).toBeNull();
    expect(server.stderr()).not.toContain('internal error');
    c.socket.destroy();
  });

  it('cancels the requests of TCP clients that disconnect without waiting for their answers', async () => {
    // 600 such clients with 1 MB documents used to take the server from 55 MB to 1 GB and keep
    // two cores busy after they left. Each client here asks for an automatic completion (which
    // first waits out a 1.5 s debounce) and hangs up; the requests must end then, cancelled.
    const server = await spawnTcp(model);
    kills.push(server.kill);
    // a shared daemon writes client trace files only inside its state directory
    const traces = join(server.stateDir!, 'traces.jsonl');
    const text = 'Once upon a time there was a cat.\n'.repeat(32 * 1024);
    const clients = 6;
    for (let i = 0; i < clients; i++) {
      const { client, socket } = await server.connect();
      await client.initialize({ completion: { debounceMs: 1500 }, trace: { file: traces } });
      client.open(`file:///gone-${i}.txt`, text);
      client.send('textDocument/inlineCompletion', { textDocument: { uri: `file:///gone-${i}.txt` }, position: { line: 5, character: 0 }, context: { triggerKind: 2 } });
      socket.end();
    }
    const lines = await traceLines(traces, clients);
    expect(lines.map((t) => t.outcome)).toEqual(Array(clients).fill('cancelled'));
    expect(lines.every((t) => t.generatedTokens === undefined && t.totalMs < 1500)).toBe(true);
    expect(server.child.exitCode).toBeNull();
  });
});
