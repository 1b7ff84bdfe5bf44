/**
 * Bad input never kills `slipstream serve --stdio`, and every bad request gets a clear JSON-RPC
 * error: malformed frames and JSON, an absurd Content-Length, unknown methods, positions past the
 * end, unknown URIs, params nested 100,000 deep, 10 MB documents, binary content, invalid UTF-16
 * surrogates; notifications never get an answer. After each, the server still answers. Uses
 * stories260K (so completions really run).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isWellFormed, spawnStdio, type SpawnedServer } from '../helpers/spawn-server.js';
import { stories260K } from '../helpers/paths.js';

let server: SpawnedServer;
const model = ['--model', stories260K];

beforeAll(async () => {
  server = spawnStdio(model);
  await server.client.initialize({ completion: { debounceMs: 0, maxTokens: 8 } });
});
afterAll(() => server.kill());

async function stillServes(): Promise<void> {
  const status = await server.client.request('slipstream/status');
  expect(status.version).toBeTypeOf('string');
  expect(server.child.exitCode).toBeNull();
}

function nextError(): Promise<{ code: number; message: string }> {
  const since = server.client.received.length;
  return server.client.waitFor((m) => m.id === null && m.error !== undefined, since).then((m) => m.error!);
}

describe('bad input over stdio', () => {
  it('answers a frame without Content-Length with a parse error and resynchronises', async () => {
    const err = nextError();
    server.client.raw('Content-Type: text/plain\r\n\r\n{}');
    expect(await err).toMatchObject({ code: -32700, message: expect.stringContaining('Content-Length') });
    await stillServes();
  });

  it('answers a header line without a colon with a parse error', async () => {
    const err = nextError();
    server.client.raw('garbage line\r\n\r\n');
    expect(await err).toMatchObject({ code: -32700 });
    await stillServes();
  });

  it('answers a body that is not JSON with a parse error', async () => {
    const err = nextError();
    const body = '{"jsonrpc": "2.0", "id": 5, "method": ';
    server.client.raw(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    expect(await err).toMatchObject({ code: -32700, message: expect.stringContaining('not valid JSON') });
    await stillServes();
  });

  it.each([
    ['an array (batch)', '[1, 2]', null],
    ['a message without jsonrpc 2.0', '{"id": 77, "method": "slipstream/status"}', 77],
    ['a method that is not a string', '{"jsonrpc": "2.0", "id": 78, "method": 5}', 78],
  ])('answers %s with InvalidRequest', async (_what, body, id) => {
    const since = server.client.received.length;
    const err = server.client.waitFor((m) => m.id === id && m.error !== undefined, since);
    server.client.raw(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    expect((await err).error).toMatchObject({ code: -32600 });
    await stillServes();
  });

  it('skips a Content-Length of 99999999999999999999 and answers the frames after it', async () => {
    // This used to answer one parse error and then skip every later byte of the connection.
    const err = nextError();
    server.client.raw('Content-Length: 99999999999999999999\r\n\r\n{"jsonrpc": "2.0", "method": "x"');
    expect(await err).toMatchObject({ code: -32700, message: expect.stringContaining('exceeds the limit') });
    await stillServes();
  });

  it('never answers a notification, not even $/cancelRequest with null params', async () => {
    const since = server.client.received.length;
    server.client.notify('$/cancelRequest', null);
    server.client.notify('$/cancelRequest', { id: 123456 });
    server.client.notify('textDocument/didChange', null);
    await stillServes();
    const replies = server.client.received.slice(since).filter((m) => m.method === undefined);
    expect(replies.map((m) => m.result?.version ?? m.error)).toEqual([expect.any(String)]);
    const logged = server.client.received.slice(since).filter((m) => m.method === 'window/logMessage').map((m) => m.params.message);
    expect(logged).toContainEqual(expect.stringContaining('ignored $/cancelRequest notification'));
  });

  it('answers a 100,000-deep object in a position with InvalidParams', async () => {
    const deep = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
    const body = `{"jsonrpc":"2.0","id":"deep","method":"textDocument/inlineCompletion","params":{"textDocument":{"uri":"file:///short.txt"},"position":${deep},"context":{"triggerKind":1}}}`;
    const reply = server.client.waitFor((m) => m.id === 'deep', server.client.received.length);
    server.client.raw(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    expect((await reply).error).toMatchObject({ code: -32602, message: 'params nest deeper than 64 levels' });
    await stillServes();
  });

  it('answers an unknown method with MethodNotFound', async () => {
    await expect(server.client.request('slipstream/frobnicate', {})).rejects.toMatchObject({ code: -32601 });
    await stillServes();
  });

  it('answers a position past the end and an unknown URI with InvalidParams', async () => {
    server.client.open('file:///short.txt', 'one line');
    await expect(
      server.client.request('textDocument/inlineCompletion', { textDocument: { uri: 'file:///short.txt' }, position: { line: 3, character: 0 }, context: { triggerKind: 1 } }),
    ).rejects.toMatchObject({ code: -32602, message: expect.stringContaining('past the end') });
    await expect(
      server.client.request('textDocument/inlineCompletion', { textDocument: { uri: 'file:///never-opened.txt' }, position: { line: 0, character: 0 }, context: { triggerKind: 1 } }),
    ).rejects.toMatchObject({ code: -32602, message: expect.stringContaining('unknown document') });
    await expect(server.client.request('textDocument/inlineCompletion', null)).rejects.toMatchObject({ code: -32602 });
    await stillServes();
  });

  it('serves a 10 MB document', async () => {
    const line = 'Once upon a time there was a cat who liked to play in the sun.\n';
    const text = line.repeat(Math.ceil((10 * 1024 * 1024) / line.length));
    server.client.open('file:///big.txt', text);
    const lines = text.split('\n').length - 1;
    const list = await server.client.request('textDocument/inlineCompletion', { textDocument: { uri: 'file:///big.txt' }, position: { line: lines, character: 0 }, context: { triggerKind: 1 } });
    expect(Array.isArray(list.items)).toBe(true);
    await stillServes();
  });

  it('serves binary content and lone UTF-16 surrogates', async () => {
    const binary = Array.from({ length: 4096 }, (_, i) => String.fromCharCode((i * 7919) % 256)).join('');
    server.client.open('file:///blob.bin', binary);
    const end = binary.split('\n');
    const r1 = await server.client.request('textDocument/inlineCompletion', {
      textDocument: { uri: 'file:///blob.bin' },
      position: { line: end.length - 1, character: end.at(-1)!.length },
      context: { triggerKind: 1 },
    });
    expect(Array.isArray(r1.items)).toBe(true);
    // JSON.stringify escapes lone surrogates as \udXXX, exactly what a buggy client sends.
    const text = 'Tom \ud800 had a \udfff dog';
    server.client.open('file:///sur.txt', text);
    const r2 = await server.client.request('textDocument/inlineCompletion', { textDocument: { uri: 'file:///sur.txt' }, position: { line: 0, character: text.length }, context: { triggerKind: 1 } });
    for (const item of r2.items) expect(isWellFormed(item.insertText)).toBe(true);
    const r3 = await server.client.request('slipstream/complete', { text, offset: 5 });
    expect(Array.isArray(r3.items)).toBe(true);
    await stillServes();
  });

  it('ignores notifications with broken params without dying', async () => {
    server.client.notify('textDocument/didOpen', { textDocument: null });
    server.client.notify('textDocument/didChange', { textDocument: { uri: 'file:///nope', version: 2 }, contentChanges: [{ text: 'x' }] });
    server.client.notify('textDocument/didShowCompletion', { item: 5 });
    server.client.notify('workspace/didChangeConfiguration', { settings: { slipstream: { completion: { maxTokens: 'many' } } } });
    await stillServes();
  });
});
