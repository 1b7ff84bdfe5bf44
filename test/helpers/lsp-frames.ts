/**
 * Reads a raw LSP byte stream (as a server wrote it to stdout) into its JSON-RPC messages, and
 * reports any byte that is not part of a well-formed `Content-Length` frame.
 */
export interface FrameParse {
  messages: unknown[];
  /** Bytes that were not a frame, or a frame whose body is not JSON-RPC 2.0. Empty when clean. */
  garbage: string[];
}

export function parseFrames(data: Buffer): FrameParse {
  const messages: unknown[] = [];
  const garbage: string[] = [];
  let pos = 0;
  while (pos < data.length) {
    const headerEnd = data.indexOf('\r\n\r\n', pos);
    if (headerEnd < 0) {
      garbage.push(data.subarray(pos).toString('utf8'));
      break;
    }
    const header = data.subarray(pos, headerEnd).toString('ascii');
    const match = /^Content-Length: (\d+)(\r\nContent-Type: [^\r\n]+)?$/i.exec(header);
    if (!match) {
      garbage.push(header);
      break;
    }
    const length = Number(match[1]);
    const body = data.subarray(headerEnd + 4, headerEnd + 4 + length);
    if (body.length < length) {
      garbage.push(`truncated frame: ${body.toString('utf8')}`);
      break;
    }
    try {
      const msg = JSON.parse(body.toString('utf8')) as { jsonrpc?: string };
      if (msg.jsonrpc !== '2.0') garbage.push(body.toString('utf8'));
      messages.push(msg);
    } catch {
      garbage.push(body.toString('utf8'));
    }
    pos = headerEnd + 4 + length;
  }
  return { messages, garbage };
}

export { frame } from '../../bench/lib/rpc-client.js';
