/**
 * The fuzzer's own checks, on hand-made inputs: the reference document applies LSP edits as the
 * protocol says (positions past the line or the document, CR LF / CR / LF lines, reversed ranges),
 * the LSP-type checks accept and refuse what they should, and each oracle fails where it must
 * (so a clean fuzz run means something).
 */
import { describe, expect, it } from 'vitest';
import { checkReplies, judgeAnswer } from '../../bench/fuzz/oracle.js';
import { acceptedChange, ReferenceDocument } from '../../bench/fuzz/reference-document.js';

const at = (line: number, character: number) => ({ line, character });

describe('reference document', () => {
  it('maps positions past the end of a line to its end and past the last line to the end of the text', () => {
    const d = new ReferenceDocument('ab\r\ncd\re\nf', 1);
    expect([at(0, 9), at(1, 1), at(2, 5), at(3, 1), at(9, 0)].map((p) => d.offsetAt(p))).toEqual([2, 5, 8, 10, 10]);
  });

  it('applies changes in order, each against the text the previous left, and swaps a reversed range', () => {
    const d = new ReferenceDocument('one\ntwo\n', 1);
    d.apply([{ range: { start: at(1, 3), end: at(1, 0) }, text: 'TWO' }, { range: { start: at(0, 0), end: at(0, 0) }, text: '> ' }, { text: 'all new' }, { range: { start: at(5, 0), end: at(6, 0) }, text: '!' }], 2);
    expect(d).toMatchObject({ text: 'all new!', version: 2 });
  });

  it('accepts only didChange params of the LSP types', () => {
    const ok = { textDocument: { uri: 'u', version: 2 }, contentChanges: [{ range: { start: at(0, 0), end: at(0, 1) }, text: 'x' }, { text: 'y' }] };
    expect(acceptedChange(ok)).not.toBeNull();
    for (const bad of [
      { ...ok, contentChanges: [{ range: { start: at(0.5, 0), end: at(0, 0) }, text: 'x' }] },
      { ...ok, contentChanges: [{ range: null, text: 'x' }] },
      { ...ok, contentChanges: [{ text: 'x', rangeLength: -1 }] },
      { ...ok, textDocument: { uri: 'u', version: 2 ** 31 } },
      { ...ok, contentChanges: {} },
    ]) expect(acceptedChange(bad)).toBeNull();
  });
});

describe('oracles', () => {
  const doc = { uri: 'u', version: 3, text: 'abc' };

  it('fail on -32603, an unexpected code, a document unlike the reference and ill-formed suggestions', () => {
    expect(judgeAnswer('e', 1, 'x', { kind: 'any' }, { jsonrpc: '2.0', id: 1, error: { code: -32603, message: 'boom' } })?.kind).toBe('internal-error');
    expect(judgeAnswer('e', 1, 'x', { kind: 'error', code: -32002 }, { jsonrpc: '2.0', id: 1, result: {} })?.kind).toBe('unexpected-answer');
    expect(judgeAnswer('e', 1, 'd', { kind: 'document', uri: 'u', expected: doc }, { jsonrpc: '2.0', id: 1, result: { ...doc, text: 'abd' } })?.kind).toBe('document-mismatch');
    expect(judgeAnswer('e', 1, 'd', { kind: 'document', uri: 'u', expected: doc }, { jsonrpc: '2.0', id: 1, result: null })?.kind).toBe('document-mismatch');
    const lone = { jsonrpc: '2.0' as const, id: 1, result: { items: [{ insertText: 'a\ud800' }] } };
    expect(judgeAnswer('e', 1, 'textDocument/inlineCompletion', { kind: 'any' }, lone)?.kind).toBe('unexpected-answer');
    expect(judgeAnswer('e', 1, 'd', { kind: 'document', uri: 'u', expected: doc }, { jsonrpc: '2.0', id: 1, result: doc })).toBeNull();
  });

  it('fail on a reply to a notification, a second reply and a handler that threw', () => {
    const kinds = (clean: boolean) =>
      checkReplies('e', [
        { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse' } },
        { jsonrpc: '2.0', id: 2, result: null },
        { jsonrpc: '2.0', id: 2, result: null },
        { jsonrpc: '2.0', id: 9, result: null },
        { jsonrpc: '2.0', method: 'window/logMessage', params: { type: 1, message: "Notification handler 'x' failed with message: y" } },
      ], 5, clean).map((f) => f.kind);
    expect(kinds(true).sort()).toEqual(['internal-error', 'reply-to-notification', 'reply-to-notification', 'second-reply']);
    expect(kinds(false).sort()).toEqual(['internal-error', 'second-reply']);
  });
});
