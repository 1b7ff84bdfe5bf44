/**
 * Reading a model folder's JSON files (tokenizer.json, tokenizer_config.json, config.json,
 * generation_config.json) from TypeScript, the way the native loader reads its files: only regular
 * files (symlinks resolved; a FIFO or directory is refused, and opening never waits: O_NONBLOCK,
 * then fstat on the descriptor), only up to a size cap per file, off the event loop (fs.promises),
 * and errors that name the file and the problem but never show the file's text. Not a general
 * file reader.
 */
import { constants, promises as fs, type Stats } from 'node:fs';
import { EngineError } from './errors.js';

export type JsonObject = Record<string, unknown>;

const MiB = 1024 * 1024;

/** Size caps (bytes) of the JSON files of a model folder (docs/reliability.md). */
export const MODEL_FILE_CAPS = {
  'config.json': MiB,
  'generation_config.json': MiB,
  'tokenizer_config.json': 16 * MiB,
  'tokenizer.json': 64 * MiB,
} as const;

export type ModelJsonFile = keyof typeof MODEL_FILE_CAPS;

function badModel(path: string, what: string): EngineError {
  return new EngineError(`${path}: ${what}`, 'ENGINE_BAD_MODEL');
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function checkStats(path: string, st: Stats, cap: number): void {
  if (!st.isFile()) throw badModel(path, `is ${kindOf(st)}, not a regular file`);
  if (st.size > cap) throw badModel(path, `is ${st.size} bytes, more than the ${cap}-byte limit for this file`);
}

const IDENTIFIER = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * A value read from a file, for an error message: an identifier (1-64 of A-Z a-z 0-9 _ . -) or a
 * number or boolean is shown, anything else only by its type and length, so a message never
 * carries free text from a file. The native loader's rule (core/file-read.h).
 */
export function valueForMessage(v: unknown): string {
  if (typeof v === 'string') return IDENTIFIER.test(v) ? JSON.stringify(v) : `(a ${Buffer.byteLength(v)}-byte string, not shown)`;
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  return `(${Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`}, not shown)`;
}

/**
 * An error message from a library that read a file, without what it may have copied from the
 * file: the part before the first ':' (libraries put the offending value after it: "Unknown
 * PreTokenizer type: X"), its quoted values shown only when they are identifiers.
 */
export function messageWithoutFileText(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const head = message.split(/[:\n]/)[0]!.trim().slice(0, 200);
  return head.replace(/(["'`])(.*?)\1/g, (quoted, _q: string, inner: string) => (IDENTIFIER.test(inner) ? quoted : '(a value, not shown)'));
}

/**
 * Reads a JSON object from a model folder's file (name picks the cap). Resolves undefined when the
 * file is absent and not required. Rejects with EngineError ENGINE_BAD_MODEL when it is absent and
 * required, not a regular file, larger than its cap, not JSON or not an object.
 */
export async function readModelJson(path: string, name: ModelJsonFile, required: boolean): Promise<JsonObject | undefined> {
  const cap = MODEL_FILE_CAPS[name];
  let st: Stats;
  try {
    st = await fs.stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !required) return undefined;
    throw code === 'ENOENT' ? badModel(path, 'file not found') : new EngineError(`${path}: cannot read: ${code ?? 'unknown error'}`, 'ENGINE_IO_ERROR');
  }
  checkStats(path, st, cap);
  let text: string;
  // O_NONBLOCK: should the path have become a FIFO since the stat, opening still returns at once
  const handle = await fs.open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const opened = await handle.stat();
    checkStats(path, opened, cap);
    // to the end of the file, which may grow while it is read, but never past the cap
    const parts: Buffer[] = [];
    let got = 0;
    let chunk = Buffer.alloc(opened.size + 1);
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, got);
      if (bytesRead === 0) break;
      parts.push(chunk.subarray(0, bytesRead));
      got += bytesRead;
      if (got > cap) throw badModel(path, `grew past the ${cap}-byte limit for this file while being read`);
      chunk = Buffer.alloc(Math.min(cap + 1 - got, 65536));
    }
    text = Buffer.concat(parts, got).toString('utf8');
  } finally {
    await handle.close();
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    // V8's message quotes the text around the error; only the position is kept
    const at = /at position (\d+)/.exec((err as Error).message);
    throw badModel(path, `invalid JSON${at ? ` (at position ${at[1]})` : ''}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw badModel(path, 'expected a JSON object');
  return value as JsonObject;
}
