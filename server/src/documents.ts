/**
 * The open documents, kept in sync from didOpen / incremental didChange / didClose. Params arrive
 * already checked against the LSP types (message-gate.ts). Positions come in the negotiated
 * encoding (positionEncoding) and are converted to the UTF-16 offsets the stored TextDocument uses;
 * a character past the end of its line means the line's end (LSP). Versions only increase: a
 * didChange that does not raise the version is not applied.
 */
import { TextDocument } from 'vscode-languageserver-textdocument';
import type {
  DidChangeTextDocumentParams,
  DidCloseTextDocumentParams,
  DidOpenTextDocumentParams,
  Position,
  Range,
} from 'vscode-languageserver';
import { fromUtf16Column, toUtf16Column, type PositionEncoding } from './position-encoding.js';

export class PositionError extends Error {}

export class DocumentStore {
  private readonly docs = new Map<string, TextDocument>();
  encoding: PositionEncoding = 'utf-16';

  get size(): number {
    return this.docs.size;
  }
  get(uri: string): TextDocument | undefined {
    return this.docs.get(uri);
  }
  all(): IterableIterator<TextDocument> {
    return this.docs.values();
  }

  open(params: DidOpenTextDocumentParams): void {
    const { uri, languageId, version, text } = params.textDocument;
    const doc = TextDocument.create(uri, languageId, version, text);
    this.docs.set(uri, doc);
  }

  /**
   * Applies the changes. 'unknown': the document is not open; 'stale': the version does not
   * increase (LSP: versions increase with every change), nothing is applied.
   */
  change(params: DidChangeTextDocumentParams): 'applied' | 'unknown' | 'stale' {
    const { uri, version } = params.textDocument;
    const doc = this.docs.get(uri);
    if (!doc) return 'unknown';
    if (version <= doc.version) return 'stale';
    // Each change's range refers to the document after the previous changes, so they are
    // converted (encoding, clamping) and applied one at a time.
    for (const c of params.contentChanges) {
      const range = 'range' in c && c.range ? this.toLibraryRange(doc, c.range) : undefined;
      TextDocument.update(doc, [range ? { range, text: c.text } : { text: c.text }], version);
    }
    if (params.contentChanges.length === 0) TextDocument.update(doc, [], version);
    return 'applied';
  }

  close(params: DidCloseTextDocumentParams): void {
    this.docs.delete(params.textDocument.uri);
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
