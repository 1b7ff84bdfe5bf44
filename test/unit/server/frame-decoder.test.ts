/**
 * The LSP frame decoder: bodies come out whole however the bytes are split; a malformed header,
 * an over-limit Content-Length (the 99999999999999999999 that used to wedge a connection) and a
 * length that swallows the next frame are each reported once and decoding resumes at the next
 * header; garbage floods cost linear time and one report.
 */
import { describe, expect, it } from 'vitest';
import { BODY_LIMIT, FrameDecoder } from '../../../server/src/frame-decoder.js';

function frame(body: string): string {
  return `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

function decode(chunks: (string | Buffer)[]): { bodies: string[]; errors: string[] } {
  const bodies: string[] = [];
  const errors: string[] = [];
  const d = new FrameDecoder(
    (b) => bodies.push(b.toString('utf8')),
    (e) => errors.push(e),
  );
  for (const c of chunks) d.push(typeof c === 'string' ? Buffer.from(c, 'utf8') : c);
  return { bodies, errors };
}

const a = '{"jsonrpc":"2.0","id":1,"method":"a"}';
const b = '{"jsonrpc":"2.0","id":2,"method":"b","params":{"text":"Content-Length: 5 in a string"}}';

describe('FrameDecoder', () => {
  it('decodes the same bodies whatever the chunk boundaries', () => {
    const bytes = Buffer.from(frame(a) + frame(b) + frame('{"x":"é😀"}'), 'utf8');
    for (let size = 1; size <= 17; size++) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
      expect(decode(chunks)).toEqual({ bodies: [a, b, '{"x":"é😀"}'], errors: [] });
    }
  });

  it('takes header names in any case and other header lines', () => {
    const r = decode([`content-length: ${a.length}\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n${a}`]);
    expect(r).toEqual({ bodies: [a], errors: [] });
  });

  it('reports Content-Length 99999999999999999999 once and decodes the frames after it', () => {
    const r = decode(['Content-Length: 99999999999999999999\r\n\r\n', '{"some":"body"}', frame(a), frame(b)]);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toContain(`exceeds the limit of ${BODY_LIMIT} bytes`);
    expect(r.bodies).toEqual([a, b]);
  });

  it('skips an honest over-limit body without keeping it and decodes the next frame', () => {
    const d: string[] = [];
    const errors: string[] = [];
    const dec = new FrameDecoder((x) => d.push(x.toString()), (e) => errors.push(e));
    dec.push(Buffer.from(`Content-Length: ${BODY_LIMIT + 10}\r\n\r\n`));
    const block = Buffer.alloc(1024 * 1024, 0x61);
    for (let sent = 0; sent < BODY_LIMIT + 10; sent += block.length) dec.push(block.subarray(0, Math.min(block.length, BODY_LIMIT + 10 - sent)));
    dec.push(Buffer.from(frame(a)));
    expect(d).toEqual([a]);
    expect(errors).toHaveLength(1);
  });

  it('drops a frame whose length swallows the next header and decodes that next frame', () => {
    const lying = `Content-Length: 500\r\n\r\n${a}`;
    const r = decode([lying + frame(b) + frame(a)]);
    expect(r.bodies).toEqual([b, a]);
    expect(r.errors).toEqual([expect.stringContaining('declared 500 bytes but the next frame header came after 37')]);
  });

  it.each([1, 5, 14, 19, 21, 22, 30])('recovers the next frame when a length overshoots %i bytes into its header', (over) => {
    const r = decode([`Content-Length: ${a.length + over}\r\n\r\n${a}`, frame(b), frame(a)]);
    expect(r.bodies).toEqual([b, a]);
    expect(r.errors).toHaveLength(1);
  });

  it('finds the swallowed header when it arrives in pieces', () => {
    const r = decode([`Content-Length: 500\r\n\r\n${a}Content-Le`, 'ngth: ', `${b.length}\r`, `\n\r\n${b}`]);
    expect(r.bodies).toEqual([b]);
    expect(r.errors).toHaveLength(1);
  });

  it('resynchronises after a malformed header and after garbage without a header end', () => {
    const r = decode(['garbage line\r\n\r\n', frame(a), 'x'.repeat(20_000), frame(b)]);
    expect(r.bodies).toEqual([a, b]);
    expect(r.errors).toHaveLength(2);
  });

  it('answers a flood of blank lines with one report, in linear time', () => {
    const started = performance.now();
    const r = decode(['\r\n\r\n'.repeat(500_000), frame(a)]);
    expect(r.bodies).toEqual([a]);
    expect(r.errors).toHaveLength(1);
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
