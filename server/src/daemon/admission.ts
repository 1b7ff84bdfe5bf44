/**
 * The shared daemon's door: what a TCP connection must send before the language server sees it.
 * The first bytes must be an LSP header (`Content-Length: N`, optionally `Content-Type`; anything
 * else, such as an HTTP request line `POST / HTTP/1.1`, closes the connection at once), the first
 * message must be an `initialize` request whose `initializationOptions.token` is the daemon's
 * token (compared in constant time), and it must arrive within the handshake timeout. A refused
 * connection gets one JSON-RPC error naming the reason and is closed; nothing is loaded or parsed
 * beyond this first frame. On success the token is removed from the message (never logged, never a
 * setting) and the rewritten frame plus any bytes after it are handed back to be replayed.
 */
import type { Socket } from 'node:net';
import { tokenMatches } from './token.js';

/** Bytes the first frame (header and body) may have: initialize with every capability is ~20 KB. */
export const FIRST_FRAME_LIMIT = 1024 * 1024;
/** JSON-RPC error code of a refused connection (the implementation-defined server error range). */
export const REFUSED = -32001;

export interface AdmissionOptions {
  token: string;
  /** ms allowed from connect to a complete initialize frame. */
  timeoutMs: number;
}

export type Admission = { ok: true; replay: Buffer } | { ok: false; reason: string };

const HEADER_END = Buffer.from('\r\n\r\n', 'latin1');

/** Writes one error frame and closes the socket (destroyed if the client does not read it). */
export function refuse(socket: Socket, message: string, id: number | string | null = null): void {
  const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id, error: { code: REFUSED, message: `slipstream: ${message}` } }), 'utf8');
  if (!socket.destroyed) {
    socket.end(Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'ascii'), body]));
    setTimeout(() => socket.destroy(), 1000).unref();
  }
}

/** A problem with the header block, or null when it is a valid LSP header with its body length. */
function parseHeader(block: string): { length: number } | { problem: string } {
  let length: number | null = null;
  for (const line of block.split('\r\n')) {
    const m = /^([A-Za-z-]+)[ \t]*:[ \t]*(.*?)[ \t]*$/.exec(line);
    if (!m) return { problem: 'not an LSP header line (expected "Content-Length: N")' };
    const name = m[1]!.toLowerCase();
    if (name === 'content-length') {
      if (!/^\d{1,9}$/.test(m[2]!)) return { problem: 'Content-Length is not a number' };
      length = Number(m[2]);
    } else if (name !== 'content-type') return { problem: `header ${m[1]} is not part of the LSP base protocol` };
  }
  if (length === null) return { problem: 'no Content-Length header' };
  return { length };
}

/** Checks the start of the stream: a header line's first characters must be a header name and a colon. */
function startsLikeHeader(buf: Buffer): boolean {
  const head = buf.subarray(0, 64).toString('latin1');
  const m = /^[A-Za-z-]*/.exec(head)!;
  if (m[0].length === head.length) return true; // only name characters so far: wait for more
  return m[0].length > 0 && /^[ \t]*(:|$)/.test(head.slice(m[0].length));
}

/** Reads the first frame from `socket` and decides. The socket is paused when this resolves. */
export function admit(socket: Socket, options: AdmissionOptions): Promise<Admission> {
  return new Promise<Admission>((resolve) => {
    let buf: Buffer = Buffer.alloc(0);
    let done = false;
    const finish = (result: Admission): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.pause();
      socket.off('data', onData);
      socket.off('close', onClose);
      resolve(result);
    };
    const fail = (reason: string, id: number | string | null = null): void => {
      refuse(socket, reason, id);
      finish({ ok: false, reason });
    };
    const onClose = (): void => finish({ ok: false, reason: 'the client closed the connection before initialize' });
    const timer = setTimeout(() => fail(`no initialize request within ${options.timeoutMs} ms: connection closed`), options.timeoutMs);
    const onData = (chunk: Buffer): void => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      if (!startsLikeHeader(buf)) return fail('not a JSON-RPC (LSP) frame: connection closed (an HTTP request is not accepted here)');
      const end = buf.indexOf(HEADER_END);
      if (end < 0) {
        if (buf.length > 8 * 1024) fail('no end of the LSP header in 8 KiB: connection closed');
        return;
      }
      const header = parseHeader(buf.subarray(0, end).toString('latin1'));
      if ('problem' in header) return fail(`${header.problem}: connection closed`);
      if (end + 4 + header.length > FIRST_FRAME_LIMIT) return fail(`the first message is larger than ${FIRST_FRAME_LIMIT} bytes: connection closed`);
      if (buf.length < end + 4 + header.length) return;
      const body = buf.subarray(end + 4, end + 4 + header.length);
      const rest = buf.subarray(end + 4 + header.length);
      let msg: unknown;
      try {
        msg = JSON.parse(body.toString('utf8'));
      } catch {
        return fail('the first message is not valid JSON: connection closed');
      }
      const m = (typeof msg === 'object' && msg !== null && !Array.isArray(msg) ? msg : {}) as Record<string, unknown>;
      const id = typeof m.id === 'number' || typeof m.id === 'string' ? m.id : null;
      if (m.jsonrpc !== '2.0' || m.method !== 'initialize' || id === null) {
        return fail('the first message must be an initialize request (with initializationOptions.token): connection closed', id);
      }
      const params = m.params;
      const init = typeof params === 'object' && params !== null && Object.hasOwn(params, 'initializationOptions') ? (params as Record<string, unknown>).initializationOptions : undefined;
      const given = typeof init === 'object' && init !== null && Object.hasOwn(init, 'token') ? (init as Record<string, unknown>).token : undefined;
      if (given === undefined) return fail('missing token: send initializationOptions.token in initialize (`slipstream token` prints it)', id);
      if (!tokenMatches(given, options.token)) return fail('wrong token in initializationOptions.token (`slipstream token` prints the right one)', id);
      delete (init as Record<string, unknown>).token;
      const out = Buffer.from(JSON.stringify(m), 'utf8');
      finish({ ok: true, replay: Buffer.concat([Buffer.from(`Content-Length: ${out.length}\r\n\r\n`, 'ascii'), out, rest]) });
    };
    socket.on('data', onData);
    socket.on('close', onClose);
  });
}
