/**
 * One streaming HTTP exchange with a serving engine: POSTs a JSON body with undici's fetch (over
 * the caller's keep-alive Agent, so consecutive requests reuse the connection) and yields the data
 * of each server-sent event, parsed by eventsource-parser. The caller's AbortSignal aborts the
 * request (the server sees the connection close); `timeoutMs` bounds the wait for the response
 * and for each next event. A connection reset before any response byte is sent once more on a
 * fresh connection (a kept-alive socket the server closed as we reused it). Every failure becomes
 * a RemoteError with a stable code. Knows nothing of any completion API (remote-api.ts does).
 */
import { createParser } from 'eventsource-parser';
import type { Dispatcher } from 'undici';
import { abortError } from '../debouncer.js';
import { loadUndici } from './undici.js';

export type RemoteErrorCode =
  | 'ENGINE_REMOTE_UNCONFIGURED'
  | 'ENGINE_REMOTE_UNREACHABLE'
  | 'ENGINE_REMOTE_DISCONNECTED'
  | 'ENGINE_REMOTE_TIMEOUT'
  | 'ENGINE_REMOTE_HTTP'
  | 'ENGINE_REMOTE_BAD_STREAM';

export class RemoteError extends Error {
  constructor(
    message: string,
    readonly code: RemoteErrorCode,
    /** The HTTP status, for ENGINE_REMOTE_HTTP. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'RemoteError';
  }
}

export interface StreamOptions {
  headers: Record<string, string>;
  signal: AbortSignal;
  timeoutMs: number;
  dispatcher: Dispatcher;
  /** Strings that must never appear in an error message (the API key). */
  secrets: string[];
}

export interface EventStream {
  status: number;
  /** performance.now() when the response headers arrived. */
  headersAt: number;
  /** The data field of each event, in order; comments (keep-alive pings) are skipped. */
  events: AsyncGenerator<string, void, void>;
}

/** The URL without user:password and without query or fragment, for logs, status and traces. */
export function publicUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

function redact(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join('***');
  return out;
}

/** Socket errors that mean the connection died before the server answered anything. */
const RESET_BEFORE_RESPONSE = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);

/** The innermost cause's code and message of a fetch failure (undici wraps them in TypeError). */
function rootCause(err: unknown): { code?: string; message: string } {
  let e = err as { cause?: unknown; code?: unknown; message?: unknown; errors?: unknown[] } | undefined;
  for (let depth = 0; e && typeof e === 'object' && e.cause && depth < 5; depth++) e = e.cause as typeof e;
  if (e && Array.isArray(e.errors) && e.errors.length > 0 && !e.code) e = e.errors[0] as typeof e;
  return { code: typeof e?.code === 'string' ? e.code : undefined, message: typeof e?.message === 'string' ? e.message : String(err) };
}

/** The server's own words from an error body: OpenAI's and llama-server's {error: {message}}, else the text. */
export function serverMessage(body: string): string {
  try {
    const j = JSON.parse(body) as { error?: { message?: unknown } | string; message?: unknown };
    if (typeof j.error === 'string') return j.error;
    if (typeof j.error?.message === 'string') return j.error.message;
    if (typeof j.message === 'string') return j.message;
  } catch {
    // not JSON: the text itself
  }
  return body.trim().slice(0, 300) || '(empty body)';
}

/**
 * POSTs body to url and resolves when the response headers arrived with a 2xx status and an
 * event stream; rejects with a RemoteError (or the caller's abort) otherwise.
 */
export async function postEventStream(url: string, body: unknown, opts: StreamOptions): Promise<EventStream> {
  const { fetch } = await loadUndici();
  const endpoint = publicUrl(url);
  const timer = new AbortController();
  let timeout: NodeJS.Timeout | undefined;
  const arm = (what: string): void => {
    clearTimeout(timeout);
    timeout = setTimeout(() => timer.abort(new RemoteError(`no ${what} from ${endpoint} within ${opts.timeoutMs} ms`, 'ENGINE_REMOTE_TIMEOUT')), opts.timeoutMs);
  };
  const signal = AbortSignal.any([opts.signal, timer.signal]);
  /** What an exception during the exchange means: our abort, our timeout, or a network failure. */
  const failure = (err: unknown, during: 'connect' | 'stream'): unknown => {
    clearTimeout(timeout);
    if (opts.signal.aborted) return abortError(opts.signal);
    if (timer.signal.aborted) return timer.signal.reason;
    if (err instanceof RemoteError) return err;
    const cause = rootCause(err);
    const detail = redact(`${cause.code ? `${cause.code} ` : ''}${cause.message}`, opts.secrets);
    return during === 'connect'
      ? new RemoteError(`cannot reach ${endpoint}: ${detail}`, 'ENGINE_REMOTE_UNREACHABLE')
      : new RemoteError(`${endpoint} closed the connection mid-stream: ${detail}`, 'ENGINE_REMOTE_DISCONNECTED');
  };

  arm('response');
  let res: Awaited<ReturnType<typeof fetch>> | undefined;
  for (let attempt = 1; !res; attempt++) {
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...opts.headers },
        body: JSON.stringify(body),
        signal,
        dispatcher: opts.dispatcher,
      });
    } catch (err) {
      // A kept-alive connection the server closed as we sent on it: no response byte came back,
      // so sending once more on a fresh connection is safe (a completion changes nothing).
      if (attempt === 1 && !signal.aborted && RESET_BEFORE_RESPONSE.has(rootCause(err).code ?? '')) continue;
      throw failure(err, 'connect');
    }
  }
  const headersAt = performance.now();
  if (res.status < 200 || res.status > 299) {
    let text = '';
    try {
      text = await res.text();
    } catch {
      // the body is lost: the status says enough
    }
    clearTimeout(timeout);
    throw new RemoteError(`${endpoint} answered HTTP ${res.status}: ${redact(serverMessage(text), opts.secrets)}`, 'ENGINE_REMOTE_HTTP', res.status);
  }
  const type = res.headers.get('content-type') ?? '';
  if (!type.includes('text/event-stream') || !res.body) {
    clearTimeout(timeout);
    await res.body?.cancel().catch(() => {});
    throw new RemoteError(`${endpoint} answered ${type || 'no content type'}, not an event stream (is engine.remote.api right?)`, 'ENGINE_REMOTE_BAD_STREAM');
  }
  const stream = res.body;

  async function* events(): AsyncGenerator<string, void, void> {
    const queue: string[] = [];
    const parser = createParser({ onEvent: (e) => queue.push(e.data) });
    const decoder = new TextDecoder();
    const reader = stream.getReader();
    let finished = false;
    try {
      arm('event');
      for (;;) {
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await reader.read();
        } catch (err) {
          throw failure(err, 'stream');
        }
        if (chunk.done) break;
        arm('event'); // bytes arrived (an event or a keep-alive comment): the server is alive
        parser.feed(decoder.decode(chunk.value, { stream: true }));
        while (queue.length > 0) yield queue.shift()!;
      }
      parser.feed(decoder.decode());
      while (queue.length > 0) yield queue.shift()!;
      finished = true;
    } finally {
      clearTimeout(timeout);
      // Stopped before the end (the consumer is done, or we failed): abort the request, so the
      // server sees the connection close and stops generating.
      if (!finished) await reader.cancel().catch(() => {});
      reader.releaseLock();
    }
  }
  return { status: res.status, headersAt, events: events() };
}
