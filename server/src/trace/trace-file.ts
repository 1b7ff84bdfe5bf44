/**
 * The trace file (slipstream.trace.file): each finished request as one JSON line, appended;
 * when the next line would take the file past its bound (slipstream.trace.fileMaxKB) it is renamed
 * to FILE.1 (replacing the previous one) and a new FILE begins, so the two never hold more than
 * twice the bound. openTraceFile is the one place a trace file is opened (a shared server may
 * restrict where later); connections naming the same path share one writer. A file that cannot
 * be written is reported once and skipped; it never fails a request.
 */
import { closeSync, openSync, renameSync, statSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';

export interface TraceFileHandle {
  readonly path: string;
  /** Appends one line (a newline is added). */
  write(line: string): void;
  /** Releases this handle; the file closes when no connection holds it. */
  close(): void;
}

interface Shared {
  path: string;
  fd: number | null;
  size: number;
  maxBytes: number;
  refs: number;
  broken: boolean;
  warn: (message: string) => void;
}

const open = new Map<string, Shared>();

function reopen(f: Shared): void {
  f.fd = openSync(f.path, 'a');
  f.size = statSync(f.path).size;
}

function fail(f: Shared, err: unknown): void {
  if (!f.broken) f.warn(`trace file ${f.path}: ${(err as Error).message}; traces are not written there until it is set again`);
  f.broken = true;
  if (f.fd !== null) {
    try {
      closeSync(f.fd);
    } catch {
      // already gone
    }
  }
  f.fd = null;
}

function append(f: Shared, line: string): void {
  if (f.broken) return;
  const bytes = Buffer.from(`${line}\n`, 'utf8');
  try {
    if (f.fd === null) reopen(f);
    if (f.size > 0 && f.size + bytes.length > f.maxBytes) {
      closeSync(f.fd!);
      f.fd = null;
      renameSync(f.path, `${f.path}.1`);
      reopen(f);
    }
    // One synchronous write per line: lines from several connections never interleave.
    writeSync(f.fd!, bytes);
    f.size += bytes.length;
  } catch (err) {
    fail(f, err);
  }
}

/**
 * Opens (or joins) the trace file at `path`, rotated at `maxBytes`. Errors opening it are
 * reported through `warn` once and the handle writes nothing.
 */
export function openTraceFile(path: string, maxBytes: number, warn: (message: string) => void): TraceFileHandle {
  const key = resolve(path);
  let f = open.get(key);
  if (!f) {
    f = { path: key, fd: null, size: 0, maxBytes, refs: 0, broken: false, warn };
    open.set(key, f);
    try {
      reopen(f);
    } catch (err) {
      fail(f, err);
    }
  }
  f.maxBytes = maxBytes;
  f.refs++;
  const shared = f;
  let closed = false;
  return {
    path: key,
    write: (line) => {
      if (!closed) append(shared, line);
    },
    close: () => {
      if (closed) return;
      closed = true;
      if (--shared.refs > 0) return;
      open.delete(key);
      if (shared.fd !== null) closeSync(shared.fd);
      shared.fd = null;
    },
  };
}
