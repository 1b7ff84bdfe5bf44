/**
 * An editor stand-in for benchmarks: spawns a real `slipstream serve --stdio`, speaks LSP to it
 * (vscode-jsonrpc stream connection), keeps one open document in sync with incremental
 * `didChange` edits and asks for inline completions the way an editor does after a keystroke.
 * Every wait races the server's exit, so a dying server is an error naming its last stderr lines.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createProtocolConnection, ResponseError, StreamMessageReader, StreamMessageWriter, type ProtocolConnection } from 'vscode-languageserver/node';
import type { InlineCompletionList } from 'vscode-languageserver';
import type { RequestTrace, StatusResult, TracesResult } from '../protocol.js';

export interface Position {
  line: number;
  character: number;
}

/** The root of this package (where bin/slipstream.js lives), from source or from dist/. */
export function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'slipstream') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('the slipstream package.json was not found above this file');
    dir = up;
  }
}

/** UTF-16 line/character of `offset` in `text` (the negotiated encoding is utf-16). */
export function positionOf(text: string, offset: number): Position {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  let line = 0;
  for (let i = before.indexOf('\n'); i >= 0; i = before.indexOf('\n', i + 1)) line++;
  return { line, character: offset - lineStart };
}

export class LspTypist {
  text = '';
  version = 0;
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly conn: ProtocolConnection;
  private stderr = '';
  private readonly exited: Promise<string>;
  private readonly died: Promise<never>;
  private uri = '';

  constructor(serverArgs: string[]) {
    this.child = spawn(process.execPath, [join(packageRoot(), 'bin', 'slipstream.js'), 'serve', '--stdio', ...serverArgs], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-8000);
    });
    this.child.stdin.on('error', () => {});
    this.exited = new Promise<string>((r) => this.child.on('exit', (code, signal) => r(signal ? `killed by ${signal}` : `code ${code}`)));
    this.died = this.exited.then((how) => {
      const tail = this.stderr.trim().split('\n').slice(-8).join('\n');
      throw new Error(`the server exited (${how})${tail ? `; its last stderr lines:\n${tail}` : ''}`);
    });
    this.died.catch(() => {});
    this.conn = createProtocolConnection(new StreamMessageReader(this.child.stdout), new StreamMessageWriter(this.child.stdin));
    this.conn.onRequest('workspace/configuration', (p: { items: unknown[] }) => p.items.map(() => null));
    this.conn.onNotification('window/logMessage', () => {});
    this.conn.onNotification('window/showMessage', (m: { message: string }) => void process.stderr.write(`server: ${m.message}\n`));
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

  private async notify(method: string, params: unknown): Promise<void> {
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

  /** textDocument/inlineCompletion at `offset` for the current version; automatic (typing) unless invoked. */
  inlineCompletion(offset: number, trigger: 'automatic' | 'invoked' = 'automatic'): Promise<InlineCompletionList | null> {
    return this.request<InlineCompletionList | null>('textDocument/inlineCompletion', {
      textDocument: { uri: this.uri, version: this.version },
      position: positionOf(this.text, offset),
      context: { triggerKind: trigger === 'invoked' ? 1 : 2 },
      formattingOptions: { tabSize: 2, insertSpaces: true },
    });
  }

  /** shutdown + exit when the server is alive, else nothing; always ends the child. */
  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      try {
        await Promise.race([this.conn.sendRequest('shutdown'), this.exited]);
        await this.conn.sendNotification('exit');
        await Promise.race([this.exited, new Promise((r) => setTimeout(r, 5000).unref())]);
      } catch {
        // the server is gone or not answering: kill below
      }
      if (this.child.exitCode === null) this.child.kill();
    }
    this.conn.dispose();
  }
}
