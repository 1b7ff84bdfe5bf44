/**
 * The shared daemon's token: 32 random bytes (64 hex digits) in STATE_DIR/token, created at first
 * use with mode 0600 (exclusive create, so two starters cannot both write it). A token file other
 * users could read, or that is not a regular file, is refused. Comparison is in constant time
 * (both sides hashed to equal length, then crypto.timingSafeEqual).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ensureStateDir } from './state-dir.js';

export const TOKEN_FILE = 'token';
const TOKEN_RE = /^[0-9a-f]{64}$/;

/** Reads the token of `stateDir`, creating it (and the directory) when there is none. */
export function readOrCreateToken(stateDir: string): string {
  ensureStateDir(stateDir);
  const path = join(stateDir, TOKEN_FILE);
  try {
    const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    const token = randomBytes(32).toString('hex');
    try {
      writeSync(fd, `${token}\n`);
    } finally {
      closeSync(fd);
    }
    return token;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`cannot create token file ${path}: ${(err as Error).message}`);
  }
  return readToken(path);
}

function readToken(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    throw new Error(`cannot read token file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error(`token file ${path} is not a regular file`);
    if (typeof process.getuid === 'function' && st.uid !== process.getuid()) throw new Error(`token file ${path} belongs to another user`);
    if ((st.mode & 0o077) !== 0) throw new Error(`token file ${path} can be read by other users (mode ${(st.mode & 0o777).toString(8)}): delete it (a new one is made) or chmod 600 it`);
    const buf = Buffer.alloc(128);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const token = buf.subarray(0, n).toString('latin1').trim();
    // never quote the contents: the file may not be ours to show
    if (!TOKEN_RE.test(token)) throw new Error(`token file ${path} does not hold a token (64 hex digits): delete it and a new one is made`);
    return token;
  } finally {
    closeSync(fd);
  }
}

/** True when `given` is the token; constant time in the token's contents. */
export function tokenMatches(given: unknown, token: string): boolean {
  if (typeof given !== 'string') return false;
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(token, 'utf8').digest();
  return timingSafeEqual(a, b);
}
