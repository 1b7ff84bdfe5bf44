/**
 * JSON-RPC over a byte stream, hardened: a frame reader that answers malformed headers and
 * bodies with a JSON-RPC error (-32700 parse error, -32600 invalid request) and resynchronises
 * on the next frame instead of wedging; and a connection whose `exit` ends only that connection
 * (the caller decides: process exit for stdio, socket close for TCP).
 */
import type { Readable, Writable } from 'node:stream';
import {
  AbstractMessageReader,
  createConnection as createServerConnection,
  ErrorCodes,
  type Connection,
  type DataCallback,
  type Disposable,
  type Logger,
  type Message,
  type MessageReader,
  type MessageWriter,
  type WatchDog,
} from 'vscode-languageserver';
import { createProtocolConnection, StreamMessageWriter } from 'vscode-languageserver/node';

const HEADER_LIMIT = 8 * 1024;
/** Bodies above this are refused (and skipped) rather than buffered. */
export const BODY_LIMIT = 64 * 1024 * 1024;

export type ProtocolErrorReporter = (code: number, message: string, id: number | string | null) => void;

export class TolerantMessageReader extends AbstractMessageReader implements MessageReader {
  private buffer: Buffer = Buffer.alloc(0);
  private skip = 0;
  private callback: DataCallback | undefined;

  constructor(
    private readonly input: Readable,
    private readonly report: ProtocolErrorReporter,
  ) {
    super();
    input.on('error', (err: Error) => this.fireError(err));
    input.on('close', () => this.fireClose());
    input.on('end', () => this.fireClose());
  }

  listen(callback: DataCallback): Disposable {
    this.callback = callback;
    const onData = (chunk: Buffer): void => this.onData(chunk);
    this.input.on('data', onData);
    return { dispose: () => this.input.off('data', onData) };
  }

  private onData(chunk: Buffer): void {
    if (this.skip > 0) {
      const n = Math.min(this.skip, chunk.length);
      this.skip -= n;
      chunk = chunk.subarray(n);
    }
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) {
        if (this.buffer.length > HEADER_LIMIT) {
          this.report(ErrorCodes.ParseError, `Parse error: no end of header in ${this.buffer.length} bytes; input discarded`, null);
          this.buffer = Buffer.alloc(0);
        }
        return;
      }
      const header = this.buffer.subarray(0, end).toString('ascii');
      const length = this.contentLength(header);
      if (length === undefined) {
        // Resynchronise on the next thing that looks like a frame start.
        const next = this.nextHeaderStart();
        this.report(ErrorCodes.ParseError, `Parse error: malformed header ${JSON.stringify(header.slice(0, 200))}: expected "Content-Length: <n>"`, null);
        this.buffer = this.buffer.subarray(next > 0 ? next : end + 4);
        continue;
      }
      if (length > BODY_LIMIT) {
        this.report(ErrorCodes.ParseError, `Parse error: Content-Length ${length} exceeds the limit of ${BODY_LIMIT} bytes; body skipped`, null);
        const have = this.buffer.length - (end + 4);
        this.skip = Math.max(0, length - have);
        this.buffer = this.buffer.subarray(Math.min(this.buffer.length, end + 4 + length));
        continue;
      }
      if (this.buffer.length < end + 4 + length) return;
      const body = this.buffer.subarray(end + 4, end + 4 + length);
      this.buffer = this.buffer.subarray(end + 4 + length);
      this.deliver(body);
    }
  }

  /** Offset (> 0) of the next "Content-Length:" in the buffer, or -1. */
  private nextHeaderStart(): number {
    const text = this.buffer.toString('latin1').toLowerCase();
    return text.indexOf('content-length:', 1);
  }

  private contentLength(header: string): number | undefined {
    let length: number | undefined;
    for (const line of header.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon <= 0) return undefined;
      const key = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (key === 'content-length') {
        if (!/^\d+$/.test(value)) return undefined;
        length = Number(value);
      }
    }
    return length;
  }

  private deliver(body: Buffer): void {
    let msg: unknown;
    try {
      msg = JSON.parse(body.toString('utf8'));
    } catch (err) {
      this.report(ErrorCodes.ParseError, `Parse error: body is not valid JSON (${(err as Error).message})`, null);
      return;
    }
    const m = msg as { jsonrpc?: unknown; id?: unknown; method?: unknown; result?: unknown; error?: unknown };
    const id = typeof m?.id === 'number' || typeof m?.id === 'string' ? m.id : null;
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
      this.report(ErrorCodes.InvalidRequest, 'Invalid request: a JSON-RPC message must be an object (batches are not supported)', null);
      return;
    }
    if (m.jsonrpc !== '2.0') {
      this.report(ErrorCodes.InvalidRequest, 'Invalid request: "jsonrpc" must be "2.0"', id);
      return;
    }
    const isResponse = m.method === undefined && ('result' in m || 'error' in m);
    if (!isResponse && typeof m.method !== 'string') {
      this.report(ErrorCodes.InvalidRequest, 'Invalid request: "method" must be a string', id);
      return;
    }
    if (m.id !== undefined && m.id !== null && id === null) {
      this.report(ErrorCodes.InvalidRequest, 'Invalid request: "id" must be a number or a string', null);
      return;
    }
    if (typeof m.method === 'string' && needsObjectParams(m.method) && (typeof (m as { params?: unknown }).params !== 'object' || (m as { params?: unknown }).params === null || Array.isArray((m as { params?: unknown }).params))) {
      if (id !== null) this.report(ErrorCodes.InvalidParams, `Invalid params: ${m.method} takes an object`, id);
      return;
    }
    try {
      this.callback?.(msg as Message);
    } catch (err) {
      this.report(ErrorCodes.InternalError, `Internal error: ${(err as Error).message}`, id);
    }
  }
}

/** Methods whose params the protocol defines as an object; anything else is refused up front. */
function needsObjectParams(method: string): boolean {
  return method === 'initialize' || method.startsWith('textDocument/') || method === 'workspace/executeCommand' || method === 'slipstream/complete';
}

export interface ExitControl {
  /** Called on `exit` with 0 after shutdown, else 1. */
  exit(code: number): void;
  /** Called on initialize with the client's process id (stdio watches it). */
  initialize?(processId: number | null): void;
}

/** A server connection over a readable/writable pair with a tolerant reader. */
export function createStreamConnection(input: Readable, output: Writable, control: ExitControl): Connection {
  const writer: MessageWriter = new StreamMessageWriter(output);
  const reader = new TolerantMessageReader(input, (code, message, id) => {
    writer.write({ jsonrpc: '2.0', id, error: { code, message } } as Message).catch(() => {});
  });
  let shutdownReceived = false;
  const watchDog: WatchDog = {
    initialize: (params) => control.initialize?.(typeof params.processId === 'number' ? params.processId : null),
    get shutdownReceived() {
      return shutdownReceived;
    },
    set shutdownReceived(v: boolean) {
      shutdownReceived = v;
    },
    exit: (code) => control.exit(code),
  };
  // vscode-jsonrpc logs a failed reply through the remote console, which throws once the
  // connection is gone (a client that disconnected mid-request): never let that escape.
  const safe = (logger: Logger): Logger => {
    const guard =
      (f: (m: string) => void) =>
      (m: string): void => {
        try {
          f.call(logger, m);
        } catch {
          // connection disposed
        }
      };
    return { error: guard(logger.error), warn: guard(logger.warn), info: guard(logger.info), log: guard(logger.log) };
  };
  return createServerConnection((logger) => createProtocolConnection(reader, writer, safe(logger)), watchDog);
}
