/**
 * How much one connection's open documents may hold (a shared daemon serves many clients from one
 * process's memory): at most `maxDocuments` documents and `maxBytes` bytes as documentBytes()
 * counts them. The measure and the figures only; documents.ts keeps the running total and refuses
 * what would pass a limit, and remembers (boundedly) which documents it refused.
 */

export interface DocumentLimits {
  /** Open documents at most. */
  maxDocuments: number;
  /** documentBytes() of all open documents together at most. */
  maxBytes: number;
}

/** Far above any real editor session, low enough that one client cannot take the daemon's memory. */
export const DEFAULT_DOCUMENT_LIMITS: DocumentLimits = { maxDocuments: 1000, maxBytes: 256 * 1024 * 1024 };

/**
 * Bytes a document is counted for: 2 per UTF-16 code unit of its text and its URI (what a string
 * may take), and 8 per line (the document library's table of line offsets, one number per line).
 */
export function documentBytes(uri: string, textLength: number, lines: number): number {
  return 2 * (uri.length + textLength) + 8 * lines;
}

/** Lines of `text` as the document library counts them (CR LF, CR and LF each end one), without allocating. */
export function countLines(text: string): number {
  let lines = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 13) {
      lines++;
      if (text.charCodeAt(i + 1) === 10) i++;
    } else if (c === 10) lines++;
  }
  return lines;
}

/** `bytes` for a message: in bytes below 10 KiB, in KiB below 1 MiB, else in MiB. */
export function formatBytes(bytes: number): string {
  if (bytes < 10 * 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/** Refused URIs remembered at most, and their code units at most (the oldest are forgotten first). */
const REMEMBERED = 1000;
const REMEMBERED_CHARS = 1024 * 1024;

/** The URIs of documents refused or dropped for the limits, until closed or opened again; bounded. */
export class RefusedDocuments {
  /** Oldest first. */
  private readonly uris = new Set<string>();
  private chars = 0;

  add(uri: string): void {
    this.delete(uri);
    this.uris.add(uri);
    this.chars += uri.length;
    for (const old of this.uris) {
      if (this.uris.size <= REMEMBERED && this.chars <= REMEMBERED_CHARS) break;
      this.delete(old);
    }
  }

  has(uri: string): boolean {
    return this.uris.has(uri);
  }

  delete(uri: string): void {
    if (this.uris.delete(uri)) this.chars -= uri.length;
  }

  get size(): number {
    return this.uris.size;
  }
}
