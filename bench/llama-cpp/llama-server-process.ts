/**
 * A llama-server process for the benchmarks against llama.cpp's server: where `bash
 * bench/llama-cpp/setup.sh server` builds it, a free loopback port, and a started server (a GGUF
 * file and extra flags) that answers /health before it is handed back. The benchmark stops it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { freePort } from '../lib/free-port.js';

export const LLAMA_SERVER = resolve('.bench-deps/llama-cpp/build/bin/llama-server');

async function waitHealthy(url: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/health`)).status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`llama-server at ${url} did not become healthy within 120 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface RunningServer {
  url: string;
  stop(): Promise<void>;
}

/** llama-server on `gguf` at a free loopback port with `args` after the model and address flags. */
export async function startLlamaServer(gguf: string, args: string[]): Promise<RunningServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(LLAMA_SERVER, ['-m', gguf, '--host', '127.0.0.1', '--port', String(port), ...args], { stdio: 'ignore' });
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  const stop = async (): Promise<void> => {
    child.kill('SIGTERM');
    await exited;
  };
  try {
    await Promise.race([waitHealthy(url), exited.then(() => Promise.reject(new Error(`llama-server exited at start (${[LLAMA_SERVER, ...args].join(' ')})`)))]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, stop };
}
