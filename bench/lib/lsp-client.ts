/**
 * The one way the demo, the benchmarks and the tests start a real `slipstream` server process
 * (`spawnServer`), and an editor stand-in that speaks LSP to `slipstream serve --stdio`
 * (`LspClient`, vscode-jsonrpc stream connection): keeps one open document in sync with incremental
 * `didChange` edits and asks for inline completions the way an editor does after a keystroke; it
 * can record every message it sends (the fuzzer's seed traffic).
 * Every wait races the server's exit, so a dying server is an error naming its last stderr lines.
 * Tests that must see raw bytes on the wire use spawnServer with rpc-client.ts's frame reader.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createProtocolConnection, ResponseError, StreamMessageReader, StreamMessageWriter, type Message, type ProtocolConnection } from 'vscode-languageserver/node';
import type { InlineCompletionList } from 'vscode-languageserver';
import { packageRoot } from '../../server/src/package-root.js';
import type { RequestTrace, StatusResult, TracesResult } from '../../server/src/protocol.js';

export interface Position {
  line: number;
  character: number;
}

/** UTF-16 line/character of `offset` in `text` (the negotiated encoding is utf-16). */
export function positionOf(text: string, offset: number): Position {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  let line = 0;
  for (let i = before.indexOf('\n'); i >= 0; i = before.indexOf('\n', i + 1)) line++;
  return { line, character: offset - lineStart };
}

/** The `slipstream` command of this package (bin/slipstream.js, which runs dist/). */
export function cliPath(): string {
  return join(packageRoot(), 'bin', 'slipstream.js');
}

export interface ServerProcess {
  child: ChildProcess;
  /** Everything the process wrote to stderr so far (the last MiB). */
  stderr(): string;
  /** Resolves when the process has exited. */
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(): void;
}

const STDERR_KEPT = 1 << 20;

export interface SpawnOptions {
  /** Default 'pipe'; 'ignore' for a TCP server. */
  stdin?: 'pipe' | 'ignore';
  /** Another `slipstream` to run, e.g. an installed one (default: node and this package's bin/slipstream.js). */
  command?: string[];
  /** Working directory of the server (default: this process's). */
  cwd?: string;
  /** The server's environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs `slipstream ARGS...` (e.g. ['serve', '--stdio']) with stdout piped and stderr collected;
 * stdin is piped unless `stdin: 'ignore'` (a TCP server); `env` replaces the environment.
 */
export function spawnServer(args: string[], options: SpawnOptions = {}): ServerProcess {
  const [command, ...pre] = options.command ?? [process.execPath, cliPath()];
  const child = spawn(command!, [...pre, ...args], { stdio: [options.stdin ?? 'pipe', 'pipe', 'pipe'], ...(options.cwd ? { cwd: options.cwd } : {}), env: options.env ?? process.env });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (stderr.length > 2 * STDERR_KEPT) stderr = stderr.slice(-STDERR_KEPT);
  });
  child.stdin?.on('error', () => {});
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => {
    child.on('exit', (code, signal) => r({ code, signal }));
    // could not start at all (no such program): an exit without a code, the reason in stderr
    child.on('error', (err) => {
      stderr += `cannot start ${command}: ${err.message}\n`;
      r({ code: null, signal: null });
    });
  });
  return { child, stderr: () => stderr, exit, kill: () => child.kill() };
}

export interface LspClientOptions {
  /** Where the server's window/showMessage goes; default: a `server: ...` line on stderr. */
  onShowMessage?: (message: string) => void;
  /** How to start the server (SpawnOptions.command, .cwd, .env). */
  spawn?: Pick<SpawnOptions, 'command' | 'cwd' | 'env'>;
  /** Called with every message the client sends (requests, notifications, its answers), in order. */
  record?: (message: Message) => void;
}

export class LspClient {
  text = '';
  version = 0;
  readonly server: ServerProcess;
  private readonly conn: ProtocolConnection;
  private readonly died: Promise<never>;
  private uri = '';

  /** Starts `slipstream serve --stdio SERVER_ARGS...` and listens to it. */
  constructor(serverArgs: string[], options: LspClientOptions = {}) {
    this.server = spawnServer(['serve', '--stdio', ...serverArgs], options.spawn);
    const child = this.server.child;
    this.died = this.server.exit.then(({ code, signal }) => {
      const tail = this.server.stderr().trim().split('\n').slice(-8).join('\n');
      throw new Error(`the server exited (${signal ? `killed by ${signal}` : `code ${code}`})${tail ? `; its last stderr lines:\n${tail}` : ''}`);
    });
    this.died.catch(() => {});
    const writer = new StreamMessageWriter(child.stdin!);
    if (options.record) {
      const record = options.record;
      const write = writer.write.bind(writer);
      writer.write = (msg: Message) => {
        record(msg);
        return write(msg);
      };
    }
    this.conn = createProtocolConnection(new StreamMessageReader(child.stdout!), writer);
    const show = options.onShowMessage ?? ((m: string) => void process.stderr.write(`server: ${m}\n`));
    this.conn.onRequest('workspace/configuration', (p: { items: unknown[] }) => p.items.map(() => null));
    this.conn.onNotification('window/logMessage', () => {});
    this.conn.onNotification('window/showMessage', (m: { message: string }) => show(m.message));
    this.conn.listen();
  }

  /** A request to the server; an error response or the server's exit rejects with a clear message. */
  async request<T>(method: string, params?: unknown): Promise<T> {
    try {
      return (await Promise.race([params === undefined ? this.conn.sendRequest(method) : this.conn.sendRequest(method, params), this.died])) as T;
    } catch (err) {
      if (err instanceof ResponseError) throw new Error(`the server answered ${method} with error ${err.code}: ${err.message}`);
      throw err;
    }
  }

  /** A notification to the server; rejects when the server has exited. */
  async notify(method: string, params: unknown): Promise<void> {
    await Promise.race([this.conn.sendNotification(method, params), this.died]);
  }

  async initialize(initializationOptions: unknown): Promise<void> {
    await this.request('initialize', {
      processId: process.pid,
      rootUri: null,
      capabilities: { general: { positionEncodings: ['utf-16'] } },
      initializationOptions,
    });
    await this.notify('initialized', {});
  }

  status(): Promise<StatusResult> {
    return this.request<StatusResult>('slipstream/status');
  }

  /** Finished request traces with an id above `after`, oldest first. */
  async traces(after: number): Promise<RequestTrace[]> {
    return (await this.request<TracesResult>('slipstream/traces', { after })).traces;
  }

  /** Opens the document this client edits and asks about (one at a time). */
  async open(uri: string, languageId: string, text: string): Promise<void> {
    this.uri = uri;
    this.text = text;
    this.version = 1;
    await this.notify('textDocument/didOpen', { textDocument: { uri, languageId, version: this.version, text } });
  }

  /** Replaces text[start, end) with `insert`: one incremental didChange, a new version. */
  async edit(start: number, end: number, insert: string): Promise<void> {
    const range = { start: positionOf(this.text, start), end: positionOf(this.text, end) };
    this.text = this.text.slice(0, start) + insert + this.text.slice(end);
    await this.notify('textDocument/didChange', { textDocument: { uri: this.uri, version: ++this.version }, contentChanges: [{ range, text: insert }] });
  }

  /**
   * textDocument/inlineCompletion at `offset` for the current version; automatic (typing) unless
   * invoked; `extra` params are sent too (clientTrace).
   */
  inlineCompletion(offset: number, trigger: 'automatic' | 'invoked' = 'automatic', extra: Record<string, unknown> = {}): Promise<InlineCompletionList | null> {
    return this.request<InlineCompletionList | null>('textDocument/inlineCompletion', {
      textDocument: { uri: this.uri, version: this.version },
      position: positionOf(this.text, offset),
      context: { triggerKind: trigger === 'invoked' ? 1 : 2 },
      formattingOptions: { tabSize: 2, insertSpaces: true },
      ...extra,
    });
  }

  /** shutdown + exit when the server is alive, else nothing; always ends the child. */
  async close(): Promise<void> {
    const child = this.server.child;
    if (child.exitCode === null && child.signalCode === null) {
      try {
        await Promise.race([this.conn.sendRequest('shutdown'), this.server.exit]);
        await this.conn.sendNotification('exit');
        await Promise.race([this.server.exit, new Promise((r) => setTimeout(r, 5000).unref())]);
      } catch {
        // the server is gone or not answering: kill below
      }
      if (child.exitCode === null) child.kill();
    }
    this.conn.dispose();
  }
}
