/**
 * The user's state directory for the shared daemon (its token, its address file, its log and the
 * trace files clients may ask for): --state-dir, else $SLIPSTREAM_STATE_DIR, else
 * $XDG_STATE_HOME/slipstream, else ~/.local/state/slipstream. Created with mode 0700; an existing
 * one that other users can write to, or that is not a directory, is refused with a clear error.
 */
import { lstatSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { userDirPath } from '../user-dir.js';

export function stateDirPath(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  return flag ? resolve(flag) : userDirPath(env, 'SLIPSTREAM_STATE_DIR', 'XDG_STATE_HOME', ['.local', 'state']);
}

/** Creates the directory (0700) when missing and checks that only this user can write to it. */
export function ensureStateDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new Error(`state directory ${dir} is not a directory`);
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) throw new Error(`state directory ${dir} belongs to another user (uid ${st.uid})`);
  if ((st.mode & 0o022) !== 0) throw new Error(`state directory ${dir} can be written by other users (mode ${(st.mode & 0o777).toString(8)}): chmod 700 it`);
  return dir;
}
