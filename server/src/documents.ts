/**
 * The open documents, kept in sync from didOpen / incremental didChange / didClose. Params arrive
 * already checked against the LSP types (message-gate.ts). Positions come in the negotiated
 * encoding (positionEncoding) and are converted to the UTF-16 offsets the stored TextDocument uses;
 * a character past the end of its line means the line's end (LSP). Versions only increase: a
 * didChange that does not raise the version is not applied. The store keeps its connection under
 * its document limits (document-limits.ts), the total kept as documents change: a didOpen that
 * would pass one is not stored, and a didChange that would is applied and then the document
 * dropped, so no document is ever kept out of step with its client's copy. Listeners (onEdits)
 * hear each applied didChange as edits in UTF-16 offsets (completion/retention.ts follows text
 * through them).
 */
import { TextDocument } from 'vscode-languageserver-textdocument';
import type {
  DidChangeTextDocumentParams,
  DidCloseTextDocumentParams,
  DidOpenTextDocumentParams,
  Position,
  Range,
} from 'vscode-languageserver';
import { countLines, DEFAULT_DOCUMENT_LIMITS, documentBytes, formatBytes, RefusedDocuments, type DocumentLimits } from './document-limits.js';
import { fromUtf16Column, toUtf16Column, type PositionEncoding } from './position-encoding.js';

export class PositionError extends Error {}

/**
 * One change as offsets: [start, end) of the document before it was replaced by `inserted` UTF-16
 * units. The edits of one didChange apply in order, each to the text the previous one left.
 */
export interface DocumentEdit {
  start: number;
  end: number;
  inserted: number;
}

/** A full-text replacement as one edit: what lies between the common prefix and suffix. */
export function diffEdit(before: string, after: string): DocumentEdit {
  const most = Math.min(before.length, after.length);
  let prefix = 0;
  while (prefix < most && before.charCodeAt(prefix) === after.charCodeAt(prefix)) prefix++;
  let suffix = 0;
  while (suffix < most - prefix && before.charCodeAt(before.length - 1 - suffix) === after.charCodeAt(after.length - 1 - suffix)) suffix++;
  return { start: prefix, end: before.length - suffix, inserted: after.length - suffix - prefix };
}

export type EditListener = (doc: TextDocument, edits: readonly DocumentEdit[]) => void;

/** A document the limits kept out (not stored, or dropped): why, for the log and the client. */
export interface Refusal {
  reason: string;
}

export class DocumentStore {
  private readonly docs = new Map<string, TextDocument>();
  /** documentBytes() of each open document, as last counted; `total` is their sum. */
  private readonly counted = new Map<string, number>();
  private total = 0;
  private readonly refused = new RefusedDocuments();
  private readonly editListeners: EditListener[] = [];
  readonly limits: DocumentLimits;
  encoding: PositionEncoding = 'utf-16';

  constructor(limits: Partial<DocumentLimits> = {}) {
    this.limits = { ...DEFAULT_DOCUMENT_LIMITS, ...limits };
  }

  get size(): number {
    return this.docs.size;
  }
  /** documentBytes() of the open documents together. */
  get bytes(): number {
    return this.total;
  }
  /** Calls `listener` after each applied didChange that keeps the document open. */
  onEdits(listener: EditListener): void {
    this.editListeners.push(listener);
  }
  /** Whether `uri` was refused or dropped for the limits (and not closed or opened since). */
  wasRefused(uri: string): boolean {
    return this.refused.has(uri);
  }
  get(uri: string): TextDocument | undefined {
    return this.docs.get(uri);
  }
  all(): IterableIterator<TextDocument> {
    return this.docs.values();
  }

  /**
   * Stores the document, replacing (and uncounting) an open one of the same URI; null when stored.
   * A refusal: it would pass a limit, so it is not stored and an open one of the URI is dropped.
   */
  open(params: DidOpenTextDocumentParams): Refusal | null {
    const { uri, languageId, version, text } = params.textDocument;
    const bytes = documentBytes(uri, text.length, countLines(text));
    const replaced = this.counted.get(uri) ?? 0;
    const { maxDocuments, maxBytes } = this.limits;
    let reason: string | null = null;
    if (!this.docs.has(uri) && this.docs.size >= maxDocuments) reason = `${this.docs.size} documents are open, the limit is ${maxDocuments}`;
    else if (this.total - replaced + bytes > maxBytes) reason = this.overBytes(this.total - replaced + bytes);
    if (reason !== null) {
      this.drop(uri);
      return { reason };
    }
    this.refused.delete(uri);
    this.docs.set(uri, TextDocument.create(uri, languageId, version, text));
    this.count(uri, bytes);
    return null;
  }

  /**
   * Applies the changes. 'unknown': the document is not open; 'stale': the version does not
   * increase (LSP: versions increase with every change), nothing is applied. A refusal: the
   * changed document would pass the size limit, so it is dropped (no longer open).
   */
  change(params: DidChangeTextDocumentParams): 'applied' | 'unknown' | 'stale' | Refusal {
    const { uri, version } = params.textDocument;
    const doc = this.docs.get(uri);
    if (!doc) return 'unknown';
    if (version <= doc.version) return 'stale';
    // Each change's range refers to the document after the previous changes, so they are
    // converted (encoding, clamping) and applied one at a time.
    const edits: DocumentEdit[] = [];
    for (const c of params.contentChanges) {
      const range = 'range' in c && c.range ? this.toLibraryRange(doc, c.range) : undefined;
      if (range) {
        // the offsets the library replaces: it orders the two positions and clamps each
        const [a, b] = [doc.offsetAt(range.start), doc.offsetAt(range.end)];
        edits.push({ start: Math.min(a, b), end: Math.max(a, b), inserted: c.text.length });
      } else edits.push(diffEdit(doc.getText(), c.text));
      TextDocument.update(doc, [range ? { range, text: c.text } : { text: c.text }], version);
    }
    if (params.contentChanges.length === 0) TextDocument.update(doc, [], version);
    // lineCount is the library's own table, kept up to date by the incremental update above
    const bytes = documentBytes(uri, doc.getText().length, doc.lineCount);
    const total = this.total - (this.counted.get(uri) ?? 0) + bytes;
    if (total > this.limits.maxBytes) {
      this.drop(uri);
      return { reason: this.overBytes(total) };
    }
    this.count(uri, bytes);
    for (const listener of this.editListeners) listener(doc, edits);
    return 'applied';
  }

  close(params: DidCloseTextDocumentParams): void {
    const { uri } = params.textDocument;
    this.uncount(uri);
    this.docs.delete(uri);
    this.refused.delete(uri);
  }

  private overBytes(total: number): string {
    return `the open documents would take ${formatBytes(total)}, the limit is ${formatBytes(this.limits.maxBytes)}`;
  }

  /** Forgets an open document of `uri`, if any, and remembers the URI as refused. */
  private drop(uri: string): void {
    this.uncount(uri);
    this.docs.delete(uri);
    this.refused.add(uri);
  }

  private count(uri: string, bytes: number): void {
    this.total += bytes - (this.counted.get(uri) ?? 0);
    this.counted.set(uri, bytes);
  }

  private uncount(uri: string): void {
    this.total -= this.counted.get(uri) ?? 0;
    this.counted.delete(uri);
  }

  /** Line `line` without its line ending. */
  lineText(doc: TextDocument, line: number): string {
    const start = doc.offsetAt({ line, character: 0 });
    const end = line + 1 < doc.lineCount ? doc.offsetAt({ line: line + 1, character: 0 }) : doc.getText().length;
    return doc.getText().slice(start, end).replace(/\r?\n$|\r$/, '');
  }

  /**
   * UTF-16 offset of a client position. A character past the end of its line is the line's end
   * (LSP); a line past the end of the document throws PositionError (LSP defines no default).
   */
  offsetAt(doc: TextDocument, position: Position): number {
    const { line, character } = position;
    if (line >= doc.lineCount) throw new PositionError(`position ${line}:${character} is past the end of ${doc.uri} (${doc.lineCount} lines)`);
    return doc.offsetAt({ line, character: 0 }) + toUtf16Column(this.lineText(doc, line), character, this.encoding);
  }

  /** Client position (negotiated encoding) of a UTF-16 offset. */
  positionAt(doc: TextDocument, offset: number): Position {
    const p = doc.positionAt(offset);
    if (this.encoding === 'utf-16') return p;
    return { line: p.line, character: fromUtf16Column(this.lineText(doc, p.line), p.character, this.encoding) };
  }

  /**
   * A client range as TextDocument.update takes it: UTF-16 columns, and a line past the last one
   * moved to the end of the document. The library reads such lines as the end of the text but
   * writes past the end of its line table, after which edits land in the wrong place and can
   * duplicate the whole text (found by the fuzzer).
   */
  private toLibraryRange(doc: TextDocument, range: Range): Range {
    const conv = (p: Position): Position => {
      if (p.line >= doc.lineCount) return doc.positionAt(doc.getText().length);
      return this.encoding === 'utf-16' ? p : { line: p.line, character: toUtf16Column(this.lineText(doc, p.line), p.character, this.encoding) };
    };
    return { start: conv(range.start), end: conv(range.end) };
  }
}
