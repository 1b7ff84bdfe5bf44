/**
 * A JSON-RPC client over a byte stream pair that reads every frame the server writes, so callers
 * see exactly the bytes on the wire: requests with ids, notifications, error responses with id
 * null, and raw (malformed) input they send themselves (vscode-jsonrpc, which LspClient uses, hides
 * those). The fuzzer and the e2e tests use it; waiting is always on a message, never on a sleep.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { spawnServer, type ServerProcess } from './lsp-client.js';

/** Encodes one JSON-RPC message as an LSP frame. */
export function frame(message: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'ascii'), body]);
}

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
    /** The result for a request from the server; default: null items for workspace/configuration, else null. */
    private readonly answer: (method: string, params: any) => unknown = (method, params) =>
      method === 'workspace/configuration' ? (params?.items ?? []).map(() => null) : null,
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
        this.write({ jsonrpc: '2.0', id: msg.id, result: this.answer(msg.method, msg.params) });
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

  /** A shared daemon's token: added to initializationOptions by initialize(). */
  token: string | undefined;

  async initialize(initializationOptions?: unknown, capabilities: unknown = {}): Promise<any> {
    if (this.token !== undefined) initializationOptions = { ...(initializationOptions as object | undefined), token: this.token };
    const r = await this.request('initialize', { processId: null, rootUri: null, capabilities, initializationOptions });
    this.notify('initialized', {});
    return r;
  }

  open(uri: string, text: string, languageId = 'plaintext', version = 1): void {
    this.notify('textDocument/didOpen', { textDocument: { uri, languageId, version, text } });
  }
}

/**
 * Starts `slipstream serve --port 0` and resolves once it listens, with its port. Unless the args
 * name a --state-dir or --insecure-no-token, the daemon gets a fresh state directory, and every
 * client from connect() sends its token in initialize.
 */
export async function spawnTcp(
  args: string[] = [],
  env?: NodeJS.ProcessEnv,
): Promise<ServerProcess & { port: number; stateDir: string | null; token: string | null; connect(): Promise<{ client: RpcClient; socket: Socket }> }> {
  const own = !args.includes('--state-dir') && !args.includes('--insecure-no-token');
  const stateDir = own ? mkdtempSync(join(tmpdir(), 'slipstream-state-')) : args.includes('--state-dir') ? args[args.indexOf('--state-dir') + 1]! : null;
  const server = spawnServer(['serve', '--port', '0', ...(own ? ['--state-dir', stateDir!] : []), ...args], { stdin: 'ignore', env });
  const port = await new Promise<number>((resolve, reject) => {
    const listening = (): void => {
      const m = /listening on [^\s:]+:(\d+)/.exec(server.stderr());
      if (m) resolve(Number(m[1]));
    };
    server.child.stderr!.on('data', listening);
    listening();
    void server.exit.then(() => reject(new Error(`server exited before listening: ${server.stderr()}`)));
  });
  const token = stateDir !== null && !args.includes('--insecure-no-token') ? readFileSync(join(stateDir, 'token'), 'utf8').trim() : null;
  if (own) void server.exit.then(() => rmSync(stateDir!, { recursive: true, force: true }));
  return {
    ...server,
    port,
    stateDir,
    token,
    connect: () =>
      new Promise((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => {
          const client = new RpcClient(socket, socket);
          if (token !== null) client.token = token;
          resolve({ client, socket });
        });
        socket.on('error', reject);
      }),
  };
}
