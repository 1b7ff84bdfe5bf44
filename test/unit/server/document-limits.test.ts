/**
 * The document store's limits: how a document is measured (text and URI as UTF-16, lines as the
 * document library counts them), the running total through open, growing and shrinking changes,
 * close and a reopen of the same URI (the old text's share replaced), and what a didOpen or
 * didChange past a limit does (not stored / dropped, remembered as refused until closed). The
 * total is checked against a re-sum of every document after each step of seeded random edits.
 */
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { TextDocumentContentChangeEvent } from 'vscode-languageserver';
import { describe, expect, it } from 'vitest';
import { countLines, DEFAULT_DOCUMENT_LIMITS, documentBytes, formatBytes, RefusedDocuments } from '../../../server/src/document-limits.js';
import { DocumentStore } from '../../../server/src/documents.js';
import { mulberry32 } from '../../../server/src/mulberry32.js';

const open = (store: DocumentStore, uri: string, text: string, version = 1) => store.open({ textDocument: { uri, languageId: 'plaintext', version, text } });
const change = (store: DocumentStore, uri: string, version: number, contentChanges: TextDocumentContentChangeEvent[]) => store.change({ textDocument: { uri, version }, contentChanges });
const close = (store: DocumentStore, uri: string) => store.close({ textDocument: { uri } });
/** What the store should count, from scratch: the oracle for its running total. */
const resum = (store: DocumentStore): number => [...store.all()].reduce((n, d) => n + documentBytes(d.uri, d.getText().length, d.lineCount), 0);

describe('the measure of a document', () => {
  it('counts lines as the document library does', () => {
    for (const text of ['', 'a', 'a\n', 'a\nb', 'a\r\nb\r\n', '\r\r\n\n', 'x\ry', '\n'.repeat(5), 'é😀\n']) {
      expect(countLines(text), JSON.stringify(text)).toBe(TextDocument.create('u', 'plaintext', 1, text).lineCount);
    }
  });

  it('is 2 bytes per UTF-16 code unit of text and URI plus 8 per line', () => {
    expect(documentBytes('file:///a', 3, 1)).toBe(2 * (9 + 3) + 8);
    const store = new DocumentStore();
    open(store, 'file:///a', 'ab\n😀');
    expect(store.bytes).toBe(2 * (9 + 5) + 8 * 2);
  });

  it('is shown in bytes, KiB or MiB', () => {
    expect([10_239, 10_240, 1024 * 1024 - 1, 256 * 1024 * 1024].map(formatBytes)).toEqual(['10239 bytes', '10.0 KiB', '1024.0 KiB', '256.0 MiB']);
  });

  it('defaults to 1000 documents and 256 MiB', () => {
    expect(DEFAULT_DOCUMENT_LIMITS).toEqual({ maxDocuments: 1000, maxBytes: 256 * 1024 * 1024 });
    expect(new DocumentStore().limits).toEqual(DEFAULT_DOCUMENT_LIMITS);
    expect(new DocumentStore({ maxDocuments: 3 }).limits).toEqual({ maxDocuments: 3, maxBytes: 256 * 1024 * 1024 });
  });
});

describe('the running total', () => {
  it('follows open, a growing and a shrinking change, a full replacement and close', () => {
    const store = new DocumentStore();
    expect(open(store, 'file:///a', 'hello')).toBeNull();
    expect(open(store, 'file:///b', 'x\ny\n')).toBeNull();
    expect(store.bytes).toBe(resum(store));
    expect(change(store, 'file:///a', 2, [{ range: { start: { line: 0, character: 5 }, end: { line: 0, character: 5 } }, text: ' world\nagain' }])).toBe('applied');
    expect(store.bytes).toBe(resum(store));
    expect(change(store, 'file:///a', 3, [{ range: { start: { line: 0, character: 0 }, end: { line: 1, character: 5 } }, text: '' }])).toBe('applied');
    expect(store.get('file:///a')!.getText()).toBe('');
    expect(store.bytes).toBe(resum(store));
    expect(change(store, 'file:///b', 2, [{ text: 'whole new text' }])).toBe('applied');
    expect(store.bytes).toBe(resum(store));
    close(store, 'file:///a');
    expect(store.bytes).toBe(documentBytes('file:///b', 14, 1));
    close(store, 'file:///b');
    expect(store.bytes).toBe(0);
    // a stale or unknown change counts nothing
    open(store, 'file:///c', 'abc', 5);
    const before = store.bytes;
    expect(change(store, 'file:///c', 5, [{ text: 'much longer text' }])).toBe('stale');
    expect(change(store, 'file:///nope', 9, [{ text: 'x' }])).toBe('unknown');
    expect(store.bytes).toBe(before);
  });

  it("replaces the old text's share when the same URI is opened again", () => {
    const store = new DocumentStore({ maxDocuments: 1 });
    open(store, 'file:///a', 'x'.repeat(1000));
    expect(open(store, 'file:///a', 'short', 2)).toBeNull();
    expect(store.size).toBe(1);
    expect(store.bytes).toBe(documentBytes('file:///a', 5, 1));
    expect(store.get('file:///a')!.getText()).toBe('short');
  });

  it('equals a re-sum of every document after each of 2000 seeded random edits', () => {
    const rng = mulberry32(7);
    const int = (n: number): number => Math.floor(rng() * n);
    const store = new DocumentStore({ maxDocuments: 4, maxBytes: 3000 });
    const versions = new Map<string, number>();
    const pieces = ['', 'a', 'hello', '\n', '\r\n', 'x\ny\n', '😀', 'lorem ipsum '.repeat(20)];
    const outcomes = { refused: 0, dropped: 0, applied: 0 };
    for (let step = 0; step < 2000; step++) {
      const uri = `file:///doc${int(6)}.ts`;
      const v = (versions.get(uri) ?? 0) + 1;
      versions.set(uri, v);
      const op = int(20);
      if (op === 0) close(store, uri);
      else if (op === 1 || !store.get(uri)) {
        if (open(store, uri, pieces[int(pieces.length)]!.repeat(int(3)), v)) outcomes.refused++;
      } else {
        const line = int(store.get(uri)!.lineCount + 1);
        // mostly insertions (documents grow), sometimes a range over up to two lines
        const start = { line, character: int(10) };
        const range = int(4) === 0 ? { start, end: { line: line + int(3), character: int(10) } } : { start, end: start };
        const r = change(store, uri, v, [{ range, text: pieces[int(pieces.length)]! }]);
        if (typeof r === 'object') outcomes.dropped++;
        if (r === 'applied') outcomes.applied++;
      }
      expect(store.bytes, `step ${step}`).toBe(resum(store));
      expect(store.bytes).toBeLessThanOrEqual(3000);
      expect(store.size).toBeLessThanOrEqual(4);
    }
    // every path was taken
    expect(outcomes.refused).toBeGreaterThan(10);
    expect(outcomes.dropped).toBeGreaterThan(10);
    expect(outcomes.applied).toBeGreaterThan(100);
  });
});

describe('past a limit', () => {
  it('does not store a document past the document limit, and stores it once another is closed', () => {
    const store = new DocumentStore({ maxDocuments: 2 });
    open(store, 'file:///1', 'a');
    open(store, 'file:///2', 'b');
    const before = store.bytes;
    expect(open(store, 'file:///3', 'c')).toEqual({ reason: '2 documents are open, the limit is 2' });
    expect(store.get('file:///3')).toBeUndefined();
    expect(store.wasRefused('file:///3')).toBe(true);
    expect(store.bytes).toBe(before);
    // a change for it is for a document that is not open
    expect(change(store, 'file:///3', 2, [{ text: 'cc' }])).toBe('unknown');
    close(store, 'file:///1');
    expect(open(store, 'file:///3', 'c', 3)).toBeNull();
    expect(store.wasRefused('file:///3')).toBe(false);
    expect(store.bytes).toBe(resum(store));
  });

  it('does not store a document past the size limit; a larger reopen drops the open copy', () => {
    const limit = documentBytes('file:///a', 100, 1) + documentBytes('file:///b', 10, 1);
    const store = new DocumentStore({ maxBytes: limit });
    expect(open(store, 'file:///a', 'x'.repeat(100))).toBeNull();
    expect(open(store, 'file:///b', 'y'.repeat(11))?.reason).toBe(`the open documents would take ${limit + 2} bytes, the limit is ${limit} bytes`);
    expect(open(store, 'file:///b', 'y'.repeat(10))).toBeNull();
    expect(store.bytes).toBe(limit);
    // the same URI opened again with more text: not kept, and the old copy is not kept either
    expect(open(store, 'file:///a', 'x'.repeat(101), 2)).not.toBeNull();
    expect(store.get('file:///a')).toBeUndefined();
    expect(store.wasRefused('file:///a')).toBe(true);
    expect(store.bytes).toBe(documentBytes('file:///b', 10, 1));
  });

  it('drops a document that a change makes pass the size limit, and frees its share', () => {
    const store = new DocumentStore({ maxBytes: 1000 });
    open(store, 'file:///small', 'abc');
    open(store, 'file:///grows', 'abc');
    const small = documentBytes('file:///small', 3, 1);
    const end = { line: 0, character: 3 };
    expect(change(store, 'file:///grows', 2, [{ range: { start: end, end }, text: 'd'.repeat(300) }])).toBe('applied');
    const r = change(store, 'file:///grows', 3, [{ range: { start: end, end }, text: 'e'.repeat(200) }]);
    expect(r).toEqual({ reason: expect.stringMatching(/^the open documents would take \d+ bytes, the limit is 1000 bytes$/) });
    expect(store.get('file:///grows')).toBeUndefined();
    expect(store.wasRefused('file:///grows')).toBe(true);
    expect(store.bytes).toBe(small);
    expect(change(store, 'file:///grows', 4, [{ text: '' }])).toBe('unknown');
    // closing it forgets the refusal
    close(store, 'file:///grows');
    expect(store.wasRefused('file:///grows')).toBe(false);
  });

  it('remembers at most 1000 refused URIs, the oldest forgotten first, and no more than a MiB of them', () => {
    const refused = new RefusedDocuments();
    for (let i = 0; i < 1500; i++) refused.add(`file:///${i}`);
    expect(refused.size).toBe(1000);
    expect(refused.has('file:///499')).toBe(false);
    expect(refused.has('file:///500')).toBe(true);
    refused.add('u'.repeat(1024 * 1024));
    expect(refused.size).toBe(1);
    refused.add('file:///next');
    expect(refused.has('file:///next')).toBe(true);
  });
});
