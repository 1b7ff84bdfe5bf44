/**
 * The fuzzer's oracles, pure: whether an answer is one the server may give (never -32603, the
 * expected error code, a document equal to the reference's, well-formed suggestions), and whether
 * the messages an episode received hold a reply to a notification, a second reply to a request or
 * a log line of a handler that threw.
 */
import { wellFormed } from '../../server/src/completion/context.js';
import type { RpcMessage } from '../lib/rpc-client.js';

export interface Failure {
  kind: 'internal-error' | 'hang' | 'reply-to-notification' | 'second-reply' | 'document-mismatch' | 'unexpected-answer';
  detail: string;
}

/** What an answer must be. */
export type Expect =
  | { kind: 'any' }
  | { kind: 'error'; code: number }
  | { kind: 'result' }
  | { kind: 'document'; uri: string; expected: { uri: string; version: number; text: string } | null };

/** Error codes a request may get; -32603 (internal error) is never one. */
const ALLOWED_ERRORS = new Set([-32700, -32600, -32601, -32602, -32002, -32800]);

/** The failure in the answer `m` to request `id` of `method`, or null. `name` labels the episode. */
export function judgeAnswer(name: string, id: number, method: string, expect: Expect, m: RpcMessage): Failure | null {
  const fail = (kind: Failure['kind'], detail: string): Failure => ({ kind, detail: `${name}: ${detail}` });
  const err = m.error;
  if (err?.code === -32603) return fail('internal-error', `${method} (id ${id}) answered -32603: ${err.message}`);
  if (err && !ALLOWED_ERRORS.has(err.code)) return fail('unexpected-answer', `${method} answered error ${err.code}: ${err.message}`);
  if (expect.kind === 'error' && err?.code !== expect.code) {
    return fail('unexpected-answer', `${method} (id ${id}) answered ${JSON.stringify(err ?? 'a result')}, expected error ${expect.code}`);
  }
  if (expect.kind === 'result' && err) return fail('unexpected-answer', `${method} (id ${id}) answered error ${err.code}: ${err.message}`);
  if (expect.kind === 'document' && !err) {
    const got = m.result as { uri: string; version: number; text: string } | null;
    const want = expect.expected;
    const same = got === null || want === null ? got === want : got.version === want.version && got.text === want.text;
    if (!same) return fail('document-mismatch', `${expect.uri}: server has ${describe(got)}, the reference ${describe(want)}`);
  }
  if (method === 'textDocument/inlineCompletion' && !err) {
    const items = (m.result as { items?: { insertText?: unknown }[] } | null)?.items;
    if (m.result !== null && !Array.isArray(items)) return fail('unexpected-answer', `inlineCompletion answered ${JSON.stringify(m.result).slice(0, 200)}`);
    for (const it of items ?? []) {
      if (typeof it.insertText !== 'string' || it.insertText !== wellFormed(it.insertText)) {
        return fail('unexpected-answer', `a suggestion that is not well-formed text: ${JSON.stringify(it).slice(0, 200)}`);
      }
    }
  }
  return null;
}

/**
 * Failures in everything an episode received: -32603 anywhere, a log line of a handler that threw,
 * a reply with id null or to an id never sent as a request (when every frame was well-formed:
 * `clean`), more than one reply to an id. Ids below `nextId` were sent as requests.
 */
export function checkReplies(name: string, received: readonly RpcMessage[], nextId: number, clean: boolean): Failure[] {
  const out: Failure[] = [];
  const fail = (kind: Failure['kind'], detail: string): void => void out.push({ kind, detail: `${name}: ${detail}` });
  const seen = new Map<unknown, number>();
  for (const m of received) {
    // a handler that threw is logged by vscode-jsonrpc ("... failed with message: ...")
    const logged = m.method === 'window/logMessage' ? String(m.params?.message ?? '') : '';
    if (/failed with message|internal error/i.test(logged)) fail('internal-error', `the server logged ${JSON.stringify(logged.slice(0, 300))}`);
    if (m.method !== undefined) continue;
    if (m.error?.code === -32603) fail('internal-error', `-32603 for id ${JSON.stringify(m.id)}: ${m.error.message}`);
    if (m.id === null || m.id === undefined) {
      if (clean) fail('reply-to-notification', `a reply with id null although every frame was well-formed: ${JSON.stringify(m).slice(0, 300)}`);
      continue;
    }
    seen.set(m.id, (seen.get(m.id) ?? 0) + 1);
    if (typeof m.id === 'number' && m.id >= nextId && clean) fail('reply-to-notification', `a reply for id ${m.id}, never sent as a request`);
  }
  for (const [id, n] of seen) if (n > 1) fail('second-reply', `${n} replies for id ${JSON.stringify(id)}`);
  return out;
}

function describe(d: { version: number; text: string } | null): string {
  return d === null ? 'no document' : `version ${d.version}, ${d.text.length} chars ${JSON.stringify(d.text.slice(0, 80))}`;
}
