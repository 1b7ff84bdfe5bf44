/**
 * What may reach a handler, decided per message before any handler runs (one place, per
 * connection): the LSP lifecycle (nothing but `initialize` and `exit` before initialize,
 * -32002 for requests; nothing but `exit` after `shutdown`, -32600 for requests; `initialize`
 * once), params against lsp-params.ts's schemas (-32602 for requests; notifications are dropped
 * with a log line, never answered), bounded nesting, and `$/cancelRequest` only for requests in
 * flight. It also tracks the requests in flight so a closed connection can cancel them.
 */
import { ErrorCodes } from 'vscode-languageserver';
import { MAX_DEPTH, nestingExceeds, paramsProblem } from './lsp-params.js';

export type RequestId = number | string;

export type Verdict =
  /** Hand the message to the connection. */
  | { kind: 'deliver' }
  /** Answer the request with this error instead. */
  | { kind: 'reply'; code: number; message: string }
  /** Do not deliver the notification; log `message` when it is not null. */
  | { kind: 'drop'; message: string | null };

const DELIVER: Verdict = { kind: 'deliver' };

export class MessageGate {
  private phase: 'new' | 'running' | 'shutdown' = 'new';
  private readonly inFlight = new Set<RequestId>();

  /** Requests delivered and not answered yet. */
  get pending(): RequestId[] {
    return [...this.inFlight];
  }

  /** The server wrote the response to `id`. */
  answered(id: RequestId): void {
    this.inFlight.delete(id);
  }

  /** A request (id given) or a notification (id undefined) from the client. */
  check(method: string, params: unknown, id: RequestId | undefined): Verdict {
    const isRequest = id !== undefined;
    const refuse = (code: number, message: string): Verdict =>
      isRequest ? { kind: 'reply', code, message } : { kind: 'drop', message: `ignored ${method} notification: ${message}` };

    if (method === 'exit') return DELIVER;
    if (!isRequest && (method === 'initialize' || method === 'shutdown')) return refuse(ErrorCodes.InvalidRequest, `${method} is a request (it needs an id)`);
    if (this.phase === 'new' && method !== 'initialize') {
      return refuse(ErrorCodes.ServerNotInitialized, `server not initialized: ${method} before initialize`);
    }
    if (this.phase === 'running' && method === 'initialize') return refuse(ErrorCodes.InvalidRequest, 'initialize was already received');
    if (this.phase === 'shutdown') return refuse(ErrorCodes.InvalidRequest, `${method} after shutdown: only exit is accepted`);
    if (method === '$/cancelRequest') {
      // Cancelling what is not in flight (answered already, or never sent) is a no-op, and must
      // not grow the connection's memory of cancelled ids.
      const target = (params as { id?: unknown } | null | undefined)?.id;
      if (typeof target !== 'number' && typeof target !== 'string') return refuse(ErrorCodes.InvalidParams, 'params.id: expected an integer or a string');
      if (!this.inFlight.has(target)) return { kind: 'drop', message: null };
    }
    if (nestingExceeds(params)) return refuse(ErrorCodes.InvalidParams, `params nest deeper than ${MAX_DEPTH} levels`);
    const problem = paramsProblem(method, params);
    if (problem !== null) return refuse(ErrorCodes.InvalidParams, `invalid params for ${method}: ${problem}`);

    if (method === 'initialize' && isRequest) this.phase = 'running';
    if (method === 'shutdown' && isRequest) this.phase = 'shutdown';
    if (isRequest) this.inFlight.add(id);
    return DELIVER;
  }

  /** A response from the client to a server request: its result or error, unless nested too deep. */
  checkResponse(body: unknown): string | null {
    return nestingExceeds(body) ? `response nests deeper than ${MAX_DEPTH} levels` : null;
  }
}
