/**
 * The real `slipstream serve --stdio` process: initialize → shutdown → exit ends with code 0, and
 * stdout carries nothing but JSON-RPC frames.
 */
import { describe, expect, it } from 'vitest';
import { spawnServer } from '../../bench/lib/lsp-client.js';
import { frame, parseFrames } from '../helpers/lsp-frames.js';

function runSession(messages: unknown[]): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const server = spawnServer(['serve', '--stdio']);
    const child = server.child;
    const out: Buffer[] = [];
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.on('error', reject);
    void server.exit.then(({ code }) => resolvePromise({ code, stdout: Buffer.concat(out), stderr: server.stderr() }));
    // Send each message only after the previous request's reply arrived, like a client.
    let sent = 0;
    const sendNext = (): void => {
      while (sent < messages.length) {
        const msg = messages[sent++] as { id?: number };
        child.stdin!.write(frame(msg));
        if (msg.id !== undefined) return;
      }
    };
    child.stdout!.on('data', () => {
      const replies = parseFrames(Buffer.concat(out)).messages.filter((m) => (m as { id?: number }).id !== undefined);
      if (replies.length === messages.slice(0, sent).filter((m) => (m as { id?: number }).id !== undefined).length) sendNext();
    });
    sendNext();
  });
}

describe('slipstream serve --stdio', () => {
  it('exits with code 0 after initialize, shutdown and exit, writing only JSON-RPC frames to stdout', async () => {
    const { code, stdout, stderr } = await runSession([
      { jsonrpc: '2.0', id: 1, method: 'initialize', params: { processId: null, rootUri: null, capabilities: {} } },
      { jsonrpc: '2.0', method: 'initialized', params: {} },
      { jsonrpc: '2.0', id: 2, method: 'shutdown', params: null },
      { jsonrpc: '2.0', method: 'exit', params: null },
    ]);
    const { messages, garbage } = parseFrames(stdout);
    expect(garbage, `stderr was: ${stderr}`).toEqual([]);
    const init = messages.find((m) => (m as { id?: number }).id === 1) as { result: { capabilities: unknown } };
    expect(init.result.capabilities).toBeTypeOf('object');
    expect(messages.find((m) => (m as { id?: number }).id === 2)).toMatchObject({ result: null });
    expect(code).toBe(0);
  });
});
