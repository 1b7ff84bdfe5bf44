/**
 * A real `slipstream serve` process (stdio, or a TCP socket with --port), started by the shared
 * bench/lib/lsp-client.ts spawnServer, and a small JSON-RPC client that reads every frame the
 * server writes, so tests see exactly the bytes on the wire: requests with ids, notifications,
 * error responses with id null, raw (malformed) input (vscode-jsonrpc, which LspClient uses, hides
 * those). Waiting is always on a message or an exit, never on a sleep.
 */
import { connect, type Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { spawnServer, type ServerProcess } from '../../bench/lib/lsp-client.js';
import { frame } from './lsp-frames.js';

export interface RpcMessage {
  jsonrpc: '2.0';
  id?: number | string | null;
  method?: string;
  params?: any;
  result?: any;
  error?: { code: number; message: string; data?: unknown };
}

type Waiter = { pred: (m: RpcMessage) => boolean; resolve: (m: RpcMessage) => void };

/** A JSON-RPC client over a byte stream pair. */
export class RpcClient {
  readonly received: RpcMessage[] = [];
  /** Bytes on the server's output that were not well-formed frames. */
  readonly garbage: string[] = [];
  private buf = Buffer.alloc(0);
  private nextId = 1;
  private waiters: Waiter[] = [];
  private closedResolve!: () => void;
  readonly closed = new Promise<void>((r) => (this.closedResolve = r));

  constructor(
    input: Readable,
    private readonly output: Writable,
  ) {
    input.on('data', (d: Buffer) => this.onData(d));
    input.on('close', () => this.closedResolve());
    input.on('end', () => this.closedResolve());
    output.on('error', () => {});
  }

  private onData(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const header = this.buf.subarray(0, end).toString('ascii');
      const m = /^Content-Length: (\d+)$/i.exec(header);
      if (!m) {
        this.garbage.push(header);
        this.buf = this.buf.subarray(end + 4);
        continue;
      }
      const len = Number(m[1]);
      if (this.buf.length < end + 4 + len) return;
      const body = this.buf.subarray(end + 4, end + 4 + len).toString('utf8');
      this.buf = this.buf.subarray(end + 4 + len);
      let msg: RpcMessage;
      try {
        msg = JSON.parse(body) as RpcMessage;
      } catch {
        this.garbage.push(body);
        continue;
      }
      this.received.push(msg);
      // Answer the server's own requests like an editor would.
      if (msg.method !== undefined && msg.id !== undefined && msg.id !== null) {
        const result = msg.method === 'workspace/configuration' ? (msg.params?.items ?? []).map(() => null) : null;
        this.write({ jsonrpc: '2.0', id: msg.id, result });
      }
      for (const w of [...this.waiters]) {
        if (w.pred(msg)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(msg);
        }
      }
    }
  }

  /** Resolves with the first message (already received or future) that matches. */
  waitFor(pred: (m: RpcMessage) => boolean, since = 0): Promise<RpcMessage> {
    const found = this.received.slice(since).find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => this.waiters.push({ pred, resolve }));
  }

  write(msg: unknown): void {
    this.raw(frame(msg));
  }

  raw(bytes: Buffer | string): void {
    if (!this.output.destroyed) this.output.write(bytes);
  }

  notify(method: string, params?: unknown): void {
    this.write({ jsonrpc: '2.0', method, params });
  }

  /** Sends a request and returns its id and the response (result or error). */
  send(method: string, params?: unknown): { id: number; response: Promise<RpcMessage> } {
    const id = this.nextId++;
    const response = this.waitFor((m) => m.id === id && m.method === undefined);
    this.write({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });
    return { id, response };
  }

  /** Sends a request and resolves with its result, or rejects with its error. */
  async request<T = any>(method: string, params?: unknown): Promise<T> {
    const r = await this.send(method, params).response;
    if (r.error) throw Object.assign(new Error(r.error.message), { code: r.error.code });
    return r.result as T;
  }

  async initialize(initializationOptions?: unknown, capabilities: unknown = {}): Promise<any> {
    const r = await this.request('initialize', { processId: null, rootUri: null, capabilities, initializationOptions });
    this.notify('initialized', {});
    return r;
  }

  open(uri: string, text: string, languageId = 'plaintext', version = 1): void {
    this.notify('textDocument/didOpen', { textDocument: { uri, languageId, version, text } });
  }
}

export interface SpawnedServer extends ServerProcess {
  client: RpcClient;
}

/** Starts `slipstream serve --stdio` with extra args. */
export function spawnStdio(args: string[] = []): SpawnedServer {
  const server = spawnServer(['serve', '--stdio', ...args]);
  return { ...server, client: new RpcClient(server.child.stdout!, server.child.stdin!) };
}

/** Starts `slipstream serve --port 0` and resolves once it listens, with its port. */
export async function spawnTcp(args: string[] = []): Promise<ServerProcess & { port: number; connect(): Promise<{ client: RpcClient; socket: Socket }> }> {
  const server = spawnServer(['serve', '--port', '0', ...args], { stdin: 'ignore' });
  const port = await new Promise<number>((resolve, reject) => {
    const listening = (): void => {
      const m = /listening on [^\s:]+:(\d+)/.exec(server.stderr());
      if (m) resolve(Number(m[1]));
    };
    server.child.stderr!.on('data', listening);
    listening();
    void server.exit.then(() => reject(new Error(`server exited before listening: ${server.stderr()}`)));
  });
  return {
    ...server,
    port,
    connect: () =>
      new Promise((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => resolve({ client: new RpcClient(socket, socket), socket }));
        socket.on('error', reject);
      }),
  };
}

/** True when `s` has no lone UTF-16 surrogate (String.prototype.isWellFormed, for ES2022 typings). */
export function isWellFormed(s: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}
