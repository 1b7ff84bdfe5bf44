/**
 * Generated didChange params for the fuzzer, pure: 0-5 content changes against the current text of
 * a document (ranges anywhere: past the line, past the document, reversed; text with CR LF, CR,
 * LF, emoji, lone surrogates, 20 KB runs; whole-text replacements), now and then a change the LSP
 * types forbid (so the server must drop the notification), and a version that usually increases.
 */
import { Deep, int, pick, type Rng } from './mutate.js';
import { lineStarts, ReferenceDocument, type Pos } from './reference-document.js';

/** A position in `doc`, now and then past the end of its line or of the document. */
export function randomPos(rng: Rng, doc: ReferenceDocument): Pos {
  const starts = lineStarts(doc.text);
  const line = rng() < 0.9 ? int(rng, 0, starts.length - 1) : starts.length + int(rng, 0, 3);
  const len = line < starts.length ? (line + 1 < starts.length ? starts[line + 1]! : doc.text.length) - starts[line]! : 0;
  const character = rng() < 0.95 ? int(rng, 0, len + 2) : 2 ** 31 - 1;
  return { line, character };
}

export function randomText(rng: Rng): string {
  return pick(rng, [
    () => '',
    () => String.fromCharCode(int(rng, 32, 126)),
    () => pick(rng, ['\n', '\r\n', '\r', '\t', '😀', '中文', 'é', '\ud83d', '\ude00', '\u0000']),
    () => Array.from({ length: int(rng, 1, 40) }, () => String.fromCharCode(int(rng, 32, 126))).join(''),
    () => 'line one\r\nline two\nline three\r',
    () => 'x'.repeat(int(rng, 1000, 20_000)),
  ])();
}

/** Changes the LSP types forbid: the whole notification must be dropped. */
const INVALID_CHANGES = [
  { range: { start: { line: 0.5, character: 0 }, end: { line: 0.5, character: 0 } }, text: 'x'.repeat(180) },
  { range: { start: { line: -1, character: 0 }, end: { line: 0, character: 0 } }, text: 'x' },
  { range: { start: { line: '1', character: 0 }, end: { line: 1, character: 0 } }, text: 'x' },
  { range: null, text: 'x' },
  { range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } } },
  { text: 'x', rangeLength: -1 },
  { range: { start: { line: 0, character: new Deep(100_000) }, end: { line: 0, character: 0 } }, text: 'x' },
];

/** didChange params for document `uri` whose text and version are `doc`'s (a text over 400 KB is reset). */
export function didChangeParams(rng: Rng, uri: string, doc: ReferenceDocument): Record<string, unknown> {
  if (doc.text.length > 400_000) return { textDocument: { uri, version: doc.version + 1 }, contentChanges: [{ text: 'reset\n' }] };
  const changes: unknown[] = [];
  const count = rng() < 0.05 ? 0 : rng() < 0.75 ? 1 : int(rng, 2, 5);
  const scratch = new ReferenceDocument(doc.text, doc.version);
  for (let i = 0; i < count; i++) {
    const r = rng();
    if (r < 0.85) {
      const start = randomPos(rng, scratch);
      const end = rng() < 0.5 ? start : rng() < 0.1 ? { line: Math.max(0, start.line - 1), character: 0 } : { line: start.line + int(rng, 0, 2), character: int(rng, 0, 30) };
      const c: Record<string, unknown> = { range: { start, end }, text: randomText(rng) };
      if (rng() < 0.1) c.rangeLength = int(rng, 0, 10);
      changes.push(c);
      scratch.apply([c as { range: { start: Pos; end: Pos }; text: string }], scratch.version);
    } else if (r < 0.93) {
      const c = { text: pick(rng, [scratch.text.slice(0, int(rng, 0, scratch.text.length)), 'new text\r\n', '']) };
      changes.push(c);
      scratch.apply([c], scratch.version);
    } else {
      changes.push(pick(rng, INVALID_CHANGES));
    }
  }
  const version = rng() < 0.9 ? doc.version + int(rng, 1, 3) : doc.version - int(rng, 0, 1);
  return { textDocument: { uri: rng() < 0.95 ? uri : 'file:///fuzz/not-open.ts', version }, contentChanges: changes };
}
