/**
 * How the fuzzer puts a message body on the wire: a clean frame, the same frame cut into pieces or
 * with other header spellings (both lossless), or a broken frame (a length that is too long, too
 * short or absurd, garbage before it) after which the server must resynchronise. Pure.
 */
import { int, type Rng } from './mutate.js';

export type Framing = 'exact' | 'split' | 'header-variant' | 'lying-long' | 'lying-short' | 'huge-length' | 'garbage-before';

/** Framings after which the message still reaches the server whole. */
export const LOSSLESS: ReadonlySet<Framing> = new Set<Framing>(['exact', 'split', 'header-variant']);

export function encodeFrame(body: string, framing: Framing, rng: Rng): Buffer[] {
  const bytes = Buffer.from(body, 'utf8');
  const header = (h: string): Buffer => Buffer.from(h, 'latin1');
  const n = bytes.length;
  switch (framing) {
    case 'exact':
      return [Buffer.concat([header(`Content-Length: ${n}\r\n\r\n`), bytes])];
    case 'split': {
      const all = Buffer.concat([header(`Content-Length: ${n}\r\n\r\n`), bytes]);
      const cuts = [...new Set(Array.from({ length: int(rng, 1, 5) }, () => int(rng, 1, all.length - 1)))].sort((a, b) => a - b);
      const points = [0, ...cuts, all.length];
      return points.slice(0, -1).map((c, i) => all.subarray(c, points[i + 1]));
    }
    case 'header-variant':
      return [Buffer.concat([header(`content-length:${n}\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n`), bytes])];
    case 'lying-long':
      return [Buffer.concat([header(`Content-Length: ${n + int(rng, 1, 2000)}\r\n\r\n`), bytes])];
    case 'lying-short':
      return [Buffer.concat([header(`Content-Length: ${Math.max(0, n - int(rng, 1, n))}\r\n\r\n`), bytes])];
    case 'huge-length':
      return [Buffer.concat([header('Content-Length: 99999999999999999999\r\n\r\n'), bytes])];
    case 'garbage-before': {
      const garbage = Buffer.from(Array.from({ length: int(rng, 1, 64) }, () => int(rng, 0, 255)));
      return [garbage, Buffer.concat([header(`Content-Length: ${n}\r\n\r\n`), bytes])];
    }
  }
}
