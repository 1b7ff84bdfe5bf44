/**
 * Bounded fuzz runs. Over stdio: a seeded stream of random bytes, mutated valid frames and valid
 * messages with random params (a few thousand, well under 10 s), then the server must still answer
 * a request. Over TCP: `slipstream bench fuzz` (bench/fuzz/, structure-aware, mutating recorded
 * keystroke traffic, every document checked against a reference) for a few episodes; CI runs it
 * longer (.ci/run). Seeded, so a failure reproduces.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FuzzResult } from '../../bench/fuzz/main.js';
import { mulberry32 } from '../../server/src/mulberry32.js';
import { frame } from '../helpers/lsp-frames.js';
import { cliPath } from '../helpers/paths.js';
import { spawnStdio, type SpawnedServer } from '../helpers/spawn-server.js';
import { stories260K } from '../helpers/paths.js';

const rng = mulberry32;

const METHODS = ['textDocument/inlineCompletion', 'textDocument/didOpen', 'textDocument/didChange', 'textDocument/didClose', 'slipstream/complete', 'slipstream/status', 'slipstream/traces', 'workspace/executeCommand', 'textDocument/didShowCompletion', 'nope/x'];

let server: SpawnedServer;
afterAll(() => server?.kill());

describe('fuzzing the wire', () => {
  it('keeps answering after random and mutated frames', async () => {
    // With stories260K completions really run; maxTokens keeps it quick.
    server = spawnStdio(['--model', stories260K]);
    await server.client.initialize({ completion: { debounceMs: 0, maxTokens: 4 } });
    server.client.open('file:///f.txt', 'hello\nworld');
    const rand = rng(1234);
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const randomValue = (depth = 0): unknown => {
      const r = rand();
      if (r < 0.15) return null;
      if (r < 0.3) return Math.floor(rand() * 2000) - 1000;
      if (r < 0.45) return pick(['', 'file:///f.txt', '\ud800', 'x'.repeat(50), 'Once']);
      if (r < 0.55) return rand() < 0.5;
      if (depth > 2) return {};
      if (r < 0.7) return [randomValue(depth + 1), randomValue(depth + 1)];
      return { textDocument: { uri: pick(['file:///f.txt', 'file:///g.txt', 5]), version: randomValue(3) }, position: { line: randomValue(3), character: randomValue(3) }, text: randomValue(3), offset: randomValue(3) };
    };
    const chunks: Buffer[] = [];
    let nextId = 10_000;
    for (let i = 0; i < 2000; i++) {
      const kind = rand();
      if (kind < 0.2) {
        chunks.push(Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 40) }, () => Math.floor(rand() * 256))));
      } else {
        const msg: Record<string, unknown> = { jsonrpc: '2.0', method: pick(METHODS), params: randomValue() };
        if (rand() < 0.5) msg.id = nextId++;
        const f = Buffer.from(frame(msg));
        if (kind < 0.6) {
          // Mutate a few bytes of a valid frame (header or body).
          for (let k = 0; k < 1 + Math.floor(rand() * 3); k++) f[Math.floor(rand() * f.length)] = Math.floor(rand() * 256);
        }
        chunks.push(f);
      }
    }
    // Resynchronise: a complete blank frame header boundary, then a real request.
    chunks.push(Buffer.from('\r\n\r\n'));
    const all = Buffer.concat(chunks);
    for (let at = 0; at < all.length; at += 4096) server.client.raw(all.subarray(at, at + 4096));
    // A frame with a huge declared length would swallow what follows; close it with padding.
    server.client.raw(Buffer.alloc(0));
    const since = server.client.received.length;
    // Keep sending a valid request until one is answered (a mutated header may have declared a
    // body that swallows the first few); each attempt is sent only after the previous reply.
    let answered = false;
    for (let attempt = 0; attempt < 50 && !answered; attempt++) {
      const { response } = server.client.send('slipstream/status', {});
      const padding = server.client.waitFor((m) => m.id === null, since);
      const r = await Promise.race([response, padding.then(() => response)]);
      answered = r.result?.version !== undefined;
    }
    expect(answered).toBe(true);
    expect(server.child.exitCode).toBeNull();
    // The junk was read and refused (parse / invalid-request / invalid-params errors), and no
    // handler hit an internal error.
    const refused = server.client.received.filter((m) => m.error && [-32700, -32600, -32602, -32601].includes(m.error.code));
    expect(refused.length).toBeGreaterThan(100);
    expect(server.stderr()).not.toContain('internal error');
    expect(server.client.received.filter((m) => m.error?.code === -32603).map((m) => m.error!.message)).toEqual([]);
  }, 30_000);

  it('passes a bounded structure-aware run of bench fuzz: no crash, hang, -32603, reply to a notification or document mismatch', () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipstream-fuzz-'));
    try {
      const out = join(dir, 'fuzz.json');
      const r = spawnSync(process.execPath, [cliPath, 'bench', 'fuzz', '--episodes', '16', '--seed', '1', '--out', out], { encoding: 'utf8', timeout: 110_000 });
      const result = JSON.parse(readFileSync(out, 'utf8')) as FuzzResult;
      expect(result.failures, r.stdout).toEqual([]);
      expect(r.status).toBe(0);
      expect(result.episodes).toBe(16);
      // every input class was exercised
      expect(Object.entries(result.inputs).filter(([, n]) => n === 0)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
