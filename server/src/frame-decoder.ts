/**
 * LSP base-protocol framing: bytes in, frame bodies out (no JSON or JSON-RPC: transport.ts does
 * those). It never wedges: a malformed header, a body over the size limit, or a length that runs
 * into the next frame's header is reported and decoding resumes at the next `Content-Length` header.
 * An over-limit body is never buffered. Consecutive framing errors with no good header between
 * them are reported once, so garbage cannot be amplified into a flood of replies.
 */

/** Bytes a header block may have before its blank line. */
export const HEADER_LIMIT = 8 * 1024;
/** Bodies above this are refused and skipped rather than buffered. */
export const BODY_LIMIT = 64 * 1024 * 1024;

const CRLF2 = Buffer.from('\r\n\r\n', 'latin1');
const NAME = 'content-length';
/** A header block starting at its Content-Length line (other header lines may follow). */
const HEADER_FROM_LENGTH = /^content-length[ \t]*:[ \t]*\d+[ \t]*(?:\r\n[^\r\n:]+:[^\r\n]*)*$/i;

interface Body {
  length: number;
  got: number;
  /** The body's chunks; empty when skipping (an over-limit body is never kept). */
  chunks: Buffer[];
  skipping: boolean;
  /** The last bytes of the body (at most HEADER_LIMIT), to find a header that starts inside it. */
  tail: Buffer;
}

export class FrameDecoder {
  /** Header mode: bytes after the last frame, not yet a complete header. */
  private pending: Buffer = Buffer.alloc(0);
  private body: Body | null = null;
  /** An error was reported and no well-formed header has been seen since. */
  private inError = false;

  constructor(
    private readonly onBody: (body: Buffer) => void,
    private readonly onError: (message: string) => void,
  ) {}

  push(chunk: Buffer): void {
    while (chunk.length > 0) chunk = this.body ? this.pushBody(this.body, chunk) : this.pushHeader(chunk);
  }

  private error(message: string): void {
    if (!this.inError) this.onError(message);
    this.inError = true;
  }

  /** Header mode. Returns the bytes after a complete header (a body's start), else nothing. */
  private pushHeader(chunk: Buffer): Buffer {
    const buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const finder = new NameFinder(buf);
    let pos = 0;
    for (;;) {
      const end = buf.indexOf(CRLF2, pos);
      if (end < 0) {
        if (buf.length - pos > HEADER_LIMIT) {
          this.error(`Parse error: no end of header in ${buf.length - pos} bytes; input discarded up to the next Content-Length header`);
          const next = finder.next(pos + 1);
          // keep what may be a header cut by the chunk boundary
          pos = next >= 0 ? next : buf.length - NAME.length;
          if (next >= 0) continue;
        }
        this.pending = Buffer.from(buf.subarray(pos));
        return Buffer.alloc(0);
      }
      const header = buf.toString('latin1', pos, end);
      const length = contentLength(header);
      if (length === undefined) {
        this.error(`Parse error: malformed header ${JSON.stringify(header.slice(0, 200))}: expected "Content-Length: <n>"`);
        const next = finder.next(pos + 1);
        pos = next >= 0 && next < end ? next : end + 4;
        continue;
      }
      this.inError = false;
      this.pending = Buffer.alloc(0);
      const skipping = length > BODY_LIMIT;
      if (skipping) this.error(`Parse error: Content-Length ${length} exceeds the limit of ${BODY_LIMIT} bytes; the body is skipped up to its end or the next frame header`);
      const body: Body = { length, got: 0, chunks: [], skipping, tail: Buffer.alloc(0) };
      const rest = buf.subarray(end + 4);
      if (length === 0) return this.finish(body, rest);
      this.body = body;
      return rest;
    }
  }

  /** Body mode. Returns the bytes after the body, or from a header found inside it. */
  private pushBody(b: Body, chunk: Buffer): Buffer {
    const take = Math.min(chunk.length, b.length - b.got);
    const part = chunk.subarray(0, take);
    const header = headerInside(b.tail, part);
    if (header >= 0) {
      // The declared length was a lie (the next frame's header is inside the body): valid JSON
      // never holds "Content-Length: n" followed by a raw CR LF (raw control characters are not
      // allowed in its strings, nor letters outside them), so a real body cannot contain one.
      this.body = null;
      this.error(`Parse error: a frame declared ${b.length} bytes but the next frame header came after ${b.got + header - b.tail.length}; the frame is dropped`);
      return Buffer.concat([b.tail, part, chunk.subarray(take)]).subarray(header);
    }
    b.got += take;
    if (!b.skipping) b.chunks.push(part);
    b.tail = lastBytes(b.tail, part, HEADER_LIMIT);
    const rest = chunk.subarray(take);
    return b.got < b.length ? rest : this.finish(b, rest);
  }

  private finish(b: Body, rest: Buffer): Buffer {
    this.body = null;
    if (b.skipping) return rest;
    const body = b.chunks.length === 1 ? b.chunks[0]! : Buffer.concat(b.chunks);
    const cut = headerAtEnd(body);
    if (cut >= 0) {
      // The length overshot into the start of the next frame's header: resume there.
      this.error(`Parse error: a frame declared ${b.length} bytes but the next frame header began after ${cut}; the frame is dropped`);
      return Buffer.concat([body.subarray(cut), rest]);
    }
    this.onBody(body);
    return rest;
  }
}

/**
 * Where the start of a frame header (a prefix of "Content-Length: n\r\n...") ends a body that
 * cannot be a JSON-RPC message (one ends with "}"), or -1.
 */
function headerAtEnd(body: Buffer): number {
  const tailFrom = Math.max(0, body.length - HEADER_LIMIT);
  const tail = body.toString('latin1', tailFrom).toLowerCase();
  if (tail.trimEnd().endsWith('}')) return -1;
  const at = tail.lastIndexOf(NAME);
  if (at >= 0 && HEADER_PREFIX_REST.test(tail.slice(at + NAME.length))) return tailFrom + at;
  for (let k = Math.min(NAME.length - 1, tail.length); k > 0; k--) {
    if (NAME.startsWith(tail.slice(tail.length - k))) return body.length - k;
  }
  return -1;
}

/** What may follow "content-length" in a header block that is cut short. */
const HEADER_PREFIX_REST = /^[ \t]*(?::[ \t]*(?:\d+[ \t]*(?:\r\n?(?:[^\r\n]*\r?\n?)*)?)?)?$/;

/**
 * Where a complete header block that ends inside `part` starts, as an offset into tail + part;
 * -1 when there is none. Only a blank line (CR LF CR LF) can end a header, so the search is
 * cheap for real bodies, which have none.
 */
function headerInside(tail: Buffer, part: Buffer): number {
  const edge = Buffer.concat([tail.subarray(Math.max(0, tail.length - 3)), part.subarray(0, 3)]);
  if (part.indexOf(CRLF2) < 0 && edge.indexOf(CRLF2) < 0) return -1;
  const all = Buffer.concat([tail, part]);
  for (let q = all.indexOf(CRLF2, Math.max(0, tail.length - 3)); q >= 0; q = all.indexOf(CRLF2, q + 1)) {
    const from = Math.max(0, q - HEADER_LIMIT);
    const window = all.toString('latin1', from, q);
    const start = window.toLowerCase().lastIndexOf(NAME);
    if (start >= 0 && HEADER_FROM_LENGTH.test(window.slice(start))) return from + start;
  }
  return -1;
}

/** Finds "content-length" (any case) in a buffer, remembering the last answer so rescans are O(1). */
class NameFinder {
  private lower: string | null = null;
  private lastFrom = -1;
  private lastHit = -1;
  constructor(private readonly buf: Buffer) {}

  /** Offset of the first occurrence at or after `from`, or -1. */
  next(from: number): number {
    if (this.lastFrom >= 0 && from >= this.lastFrom && (this.lastHit < 0 || from <= this.lastHit)) return this.lastHit;
    this.lower ??= this.buf.toString('latin1').toLowerCase();
    this.lastFrom = from;
    this.lastHit = this.lower.indexOf(NAME, from);
    return this.lastHit;
  }
}

/** The Content-Length of a header block; undefined when a line is malformed or it is missing. */
export function contentLength(header: string): number | undefined {
  let length: number | undefined;
  for (const line of header.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (key === NAME) {
      if (!/^\d+$/.test(value)) return undefined;
      length = Number(value);
    }
  }
  return length;
}

/** The last `n` bytes of a + b (a copy, so the caller's chunks can be released). */
function lastBytes(a: Buffer, b: Buffer, n: number): Buffer {
  if (b.length >= n) return Buffer.from(b.subarray(b.length - n));
  return Buffer.concat([a.subarray(Math.max(0, a.length - (n - b.length))), b]);
}
