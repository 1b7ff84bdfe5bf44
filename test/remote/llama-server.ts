/**
 * llama.cpp's llama-server for the remote engine tests: where `bash bench/llama-cpp/setup.sh
 * server` builds it, the one-line skip reason while it is not built (a failure instead when
 * SLIPSTREAM_LLAMA_SERVER_REQUIRED is set, as CI sets it), GGUF conversions of the repository's
 * models (bench/llama-cpp/hf-to-gguf.ts) into a temporary folder, and server processes on a free
 * loopback port that the tests stop, kill or restart themselves.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertHfToGguf } from '../../bench/llama-cpp/hf-to-gguf.js';
import { freePort } from '../../bench/lib/free-port.js';
import { repoRoot } from '../helpers/paths.js';

export const LLAMA_SERVER = join(repoRoot, '.bench-deps', 'llama-cpp', 'build', 'bin', 'llama-server');
export const shippedModel = join(repoRoot, 'fixtures', 'models', 'slipstream-code');

/** Why the suite cannot run here, or null; throws when CI requires it. */
export function llamaServerMissing(): string | null {
  if (existsSync(LLAMA_SERVER)) return null;
  const reason = `llama-server is not built (${LLAMA_SERVER} is absent): run \`bash bench/llama-cpp/setup.sh server\` first`;
  if (process.env.SLIPSTREAM_LLAMA_SERVER_REQUIRED) throw new Error(`remote engine tests required but ${reason}`);
  return `skipped: ${reason}`;
}

/** GGUF files of model folders, converted once per test file into a temporary folder. */
export class GgufCache {
  private readonly dir = mkdtempSync(join(tmpdir(), 'slipstream-gguf-'));
  private readonly files = new Map<string, string>();
  get(modelDir: string): string {
    let f = this.files.get(modelDir);
    if (!f) {
      f = join(this.dir, `${this.files.size}.gguf`);
      convertHfToGguf(modelDir, f);
      this.files.set(modelDir, f);
    }
    return f;
  }
  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface Slot {
  id: number;
  id_task?: number;
  is_processing: boolean;
  next_token?: { n_decoded: number; n_remain: number }[];
}

export interface LlamaServerOptions {
  /** Slots (-np); each gets ctx / parallel positions. */
  parallel?: number;
  ctx?: number;
  apiKey?: string;
  port?: number;
  /** More llama-server flags (speculative decoding). */
  extraArgs?: string[];
}

export class LlamaServer {
  private child: ChildProcess | null = null;
  private stderr = '';
  port = 0;

  private constructor(
    readonly gguf: string,
    private readonly options: LlamaServerOptions,
  ) {}

  /** Starts llama-server on a free loopback port and waits until /health answers 200. */
  static async start(gguf: string, options: LlamaServerOptions = {}): Promise<LlamaServer> {
    const s = new LlamaServer(gguf, options);
    s.port = options.port ?? (await freePort());
    await s.launch();
    return s;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Everything the server wrote (llama.cpp logs to stderr). */
  log(): string {
    return this.stderr;
  }

  private async launch(): Promise<void> {
    const o = this.options;
    // One thread: llama.cpp's OpenMP threads spin at barriers, which on a machine shared with
    // other work (CI, parallel builds) made a 48-token completion take seconds instead of ~70 ms.
    const args = ['-m', this.gguf, '--host', '127.0.0.1', '--port', String(this.port), '-c', String(o.ctx ?? 4096), '-np', String(o.parallel ?? 2), '-t', '1'];
    if (o.apiKey) args.push('--api-key', o.apiKey);
    args.push(...(o.extraArgs ?? []));
    const child = spawn(LLAMA_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const collect = (d: Buffer): void => {
      this.stderr += d.toString();
      if (this.stderr.length > 4 << 20) this.stderr = this.stderr.slice(-(2 << 20));
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`llama-server exited during startup:\n${this.stderr.slice(-3000)}`);
      try {
        const r = await fetch(`${this.url}/health`);
        if (r.status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`llama-server did not become healthy within 60 s:\n${this.stderr.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Restarts it on the same port (after kill). */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  async slots(): Promise<Slot[]> {
    const headers: Record<string, string> = this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {};
    return (await (await fetch(`${this.url}/slots`, { headers })).json()) as Slot[];
  }

  /** POSTs JSON (non-streaming) to one of its endpoints. */
  async post<T>(path: string, body: unknown): Promise<T> {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}) };
    const r = await fetch(`${this.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
    if (!r.ok) throw new Error(`llama-server ${path}: HTTP ${r.status}: ${await r.text()}`);
    return (await r.json()) as T;
  }

  /** Sends a signal (SIGKILL: the server dies mid-stream) and waits for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
