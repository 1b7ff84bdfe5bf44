/**
 * JSON-RPC over a byte stream, hardened. frame-decoder.ts cuts frames (and resynchronises); here a
 * body that is not JSON-RPC 2.0 gets -32700 / -32600 with the request's id when it has one, and
 * message-gate.ts decides what reaches a handler. When the input ends (a client that disconnects)
 * every request still in flight is cancelled, so no work outlives its client. A client that does
 * not read its answers stops being read until it does (backpressure), which bounds memory.
 * `exit` ends only this connection (the caller decides: process exit for stdio, socket close for TCP).
 */
import type { Readable, Writable } from 'node:stream';
import {
  AbstractMessageReader,
  AbstractMessageWriter,
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
import { createProtocolConnection } from 'vscode-languageserver/node';
import { FrameDecoder } from './frame-decoder.js';
import { MessageGate, type RequestId } from './message-gate.js';

/** Answers the client with an error response (id null when the message had none). */
export type ProtocolErrorReporter = (code: number, message: string, id: RequestId | null) => void;

/** Output bytes waiting for the client above which its input is no longer read. */
export const OUTPUT_BACKLOG_LIMIT = 4 * 1024 * 1024;

export class TolerantMessageReader extends AbstractMessageReader implements MessageReader {
  private callback: DataCallback | undefined;
  private readonly frames: FrameDecoder;
  private ended = false;

  constructor(
    private readonly input: Readable,
    readonly gate: MessageGate,
    private readonly report: ProtocolErrorReporter,
    /** A line for the client's log (a dropped notification). */
    private readonly log: (message: string) => void,
  ) {
    super();
    this.frames = new FrameDecoder(
      (body) => this.deliver(body),
      (message) => this.report(ErrorCodes.ParseError, message, null),
    );
    input.on('error', (err: Error) => this.fireError(err));
    input.on('close', () => this.end());
    input.on('end', () => this.end());
  }

  listen(callback: DataCallback): Disposable {
    this.callback = callback;
    const onData = (chunk: Buffer): void => this.frames.push(chunk);
    this.input.on('data', onData);
    return { dispose: () => this.input.off('data', onData) };
  }

  /** The client is gone: cancel what it asked for and still runs, then report the close. */
  private end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const id of this.gate.pending) this.dispatch({ jsonrpc: '2.0', method: '$/cancelRequest', params: { id } } as Message, null);
    this.fireClose();
  }

  private deliver(body: Buffer): void {
    let msg: unknown;
    try {
      msg = JSON.parse(body.toString('utf8'));
    } catch (err) {
      this.report(ErrorCodes.ParseError, `Parse error: body is not valid JSON (${(err as Error).message})`, null);
      return;
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
      this.report(ErrorCodes.InvalidRequest, 'Invalid request: a JSON-RPC message must be an object (batches are not supported)', null);
      return;
    }
    const m = msg as { jsonrpc?: unknown; id?: unknown; method?: unknown; params?: unknown; result?: unknown; error?: unknown };
    const id = typeof m.id === 'number' || typeof m.id === 'string' ? m.id : null;
    if (m.jsonrpc !== '2.0') return this.report(ErrorCodes.InvalidRequest, 'Invalid request: "jsonrpc" must be "2.0"', id);
    if (m.id !== undefined && m.id !== null && id === null) return this.report(ErrorCodes.InvalidRequest, 'Invalid request: "id" must be a number or a string', null);
    if (m.method === undefined && ('result' in m || 'error' in m)) {
      // A response to one of our requests (workspace/configuration, ...).
      const problem = this.gate.checkResponse('error' in m ? m.error : m.result);
      if (problem !== null) return this.dispatch({ jsonrpc: '2.0', id, error: { code: ErrorCodes.InvalidParams, message: problem } } as Message, id);
      return this.dispatch(msg as Message, id);
    }
    if (typeof m.method !== 'string') return this.report(ErrorCodes.InvalidRequest, 'Invalid request: "method" must be a string', id);
    const verdict = this.gate.check(m.method, m.params, id ?? undefined);
    if (verdict.kind === 'reply') return this.report(verdict.code, verdict.message, id);
    if (verdict.kind === 'drop') return void (verdict.message !== null && this.log(verdict.message));
    this.dispatch(msg as Message, id);
  }

  private dispatch(msg: Message, id: RequestId | null): void {
    try {
      this.callback?.(msg);
    } catch (err) {
      this.report(ErrorCodes.InternalError, `Internal error: ${(err as Error).message}`, id);
    }
  }
}

/**
 * Writes frames straight to the output stream (so every byte not yet sent is in its buffer and
 * counted by writableLength), tells the gate which requests are answered, and stops reading a
 * client whose unread answers pass OUTPUT_BACKLOG_LIMIT until they drain.
 */
export class BoundedMessageWriter extends AbstractMessageWriter implements MessageWriter {
  private paused = false;

  constructor(
    private readonly output: Writable,
    private readonly input: Readable,
    private readonly gate: MessageGate,
  ) {
    super();
    output.on('error', (err: Error) => this.fireError(err));
    output.on('close', () => this.fireClose());
  }

  write(msg: Message): Promise<void> {
    const m = msg as { id?: unknown; method?: unknown };
    if (m.method === undefined && (typeof m.id === 'number' || typeof m.id === 'string')) this.gate.answered(m.id);
    const body = Buffer.from(JSON.stringify(msg), 'utf8');
    const frame = Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'ascii'), body]);
    return new Promise<void>((resolve, reject) => {
      if (this.output.destroyed || this.output.writableEnded) return reject(new Error('the connection is closed'));
      this.output.write(frame, (err) => (err ? reject(err) : resolve()));
      if (!this.paused && this.output.writableLength > OUTPUT_BACKLOG_LIMIT) {
        this.paused = true;
        this.input.pause();
        this.output.once('drain', () => {
          this.paused = false;
          this.input.resume();
        });
      }
    });
  }

  end(): void {
    this.output.end();
  }
}

export interface ExitControl {
  /** Called on `exit` with 0 after shutdown, else 1. */
  exit(code: number): void;
  /** Called on initialize with the client's process id (stdio watches it). */
  initialize?(processId: number | null): void;
}

/** A server connection over a readable/writable pair with a tolerant reader and the message gate. */
export function createStreamConnection(input: Readable, output: Writable, control: ExitControl): Connection {
  const gate = new MessageGate();
  const writer = new BoundedMessageWriter(output, input, gate);
  const send = (msg: unknown): void => void writer.write(msg as Message).catch(() => {});
  const reader = new TolerantMessageReader(
    input,
    gate,
    (code, message, id) => send({ jsonrpc: '2.0', id, error: { code, message } }),
    (message) => send({ jsonrpc: '2.0', method: 'window/logMessage', params: { type: 2, message: `slipstream: ${message}` } }),
  );
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
