/**
 * What clients that ask and hang up cost a server: N TCP clients (50 at a time) each open a large
 * document, ask for an automatic completion (which first waits out a 5 s debounce) and disconnect
 * at once. The
 * server process's RSS and CPU time (Linux /proc, so any build can be measured) are sampled every
 * 250 ms for 15 s after the last one left. A server that cancels abandoned work goes idle; one that
 * does not runs every request. A measurement, not a test (test/e2e/disconnect.test.ts is the test).
 *
 *   npm run build && node dist/bench/abandon-clients.js [--clients 200] [--mb 1] [--cli bin/slipstream.js]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { packageRoot } from '../server/src/package-root.js';
import { frame } from './lib/rpc-client.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

/** RSS (MB) and user + system CPU time (s) of a process, from /proc. */
function usage(pid: number): { rssMb: number; cpuS: number } {
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14, 15 of proc(5))
  return { rssMb: rssKb / 1024, cpuS: ticks / 100 };
}

async function main(): Promise<void> {
  const root = packageRoot();
  const clients = Number(arg('clients', '200'));
  const mb = Number(arg('mb', '1'));
  const cli = resolve(arg('cli', join(root, 'bin', 'slipstream.js')));
  const model = arg('model', join(root, 'fixtures', 'models', 'stories260K'));
  const server = spawn(process.execPath, [cli, 'serve', '--port', '0', '--model', model, '--insecure-no-token', '--max-connections', '100000', '--max-per-address', '100000'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const port = await new Promise<number>((res, rej) => {
    server.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /listening on [^\s:]+:(\d+)/.exec(stderr);
      if (m) res(Number(m[1]));
    });
    server.on('exit', () => rej(new Error(`the server exited: ${stderr}`)));
  });
  const pid = server.pid!;
  const line = 'Once upon a time there was a cat who liked to play in the sun.\n';
  const text = line.repeat(Math.ceil((mb * 1024 * 1024) / line.length));
  const before = usage(pid);
  const one = async (i: number): Promise<void> => {
    const uri = `file:///gone/${i}.txt`;
    const socket = connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.on('error', () => {});
    socket.resume(); // read (and drop) its answers, so the socket can end
    socket.end(
      Buffer.concat([
        frame({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { processId: null, rootUri: null, capabilities: {}, initializationOptions: { completion: { debounceMs: 5000 } } } }),
        frame({ jsonrpc: '2.0', method: 'initialized', params: {} }),
        frame({ jsonrpc: '2.0', method: 'textDocument/didOpen', params: { textDocument: { uri, languageId: 'plaintext', version: 1, text } } }),
        frame({ jsonrpc: '2.0', id: 2, method: 'textDocument/inlineCompletion', params: { textDocument: { uri }, position: { line: 5, character: 0 }, context: { triggerKind: 2 } } }),
      ]),
    );
    await new Promise((r) => socket.once('close', r));
  };
  // all at once, in waves of 50 connections
  for (let i = 0; i < clients; i += 50) await Promise.all(Array.from({ length: Math.min(50, clients - i) }, (_, k) => one(i + k)));
  const left = usage(pid);
  let peak = left.rssMb;
  const series: string[] = [];
  for (let t = 0; t < 15_000; t += 250) {
    await new Promise((r) => setTimeout(r, 250));
    const u = usage(pid);
    peak = Math.max(peak, u.rssMb);
    if (t % 1000 === 750) series.push(`${((t + 250) / 1000).toFixed(0)}s ${u.rssMb.toFixed(0)} MB ${(u.cpuS - left.cpuS).toFixed(1)} s CPU`);
  }
  const after = usage(pid);
  server.kill();
  process.stdout.write(
    `${clients} clients x ${mb} MB (${cli}):\n` +
      `  RSS ${before.rssMb.toFixed(0)} MB before, ${left.rssMb.toFixed(0)} MB when the last left, ${peak.toFixed(0)} MB at most in the 15 s after, ${after.rssMb.toFixed(0)} MB at the end\n` +
      `  CPU while they connected ${(left.cpuS - before.cpuS).toFixed(1)} s, in the 15 s after ${(after.cpuS - left.cpuS).toFixed(1)} s\n` +
      `  ${series.join(' | ')}\n`,
  );
}

if (require.main === module) {
  main().catch((err: Error) => {
    process.stderr.write(`abandon-clients: ${err.message}\n`);
    process.exit(1);
  });
}
