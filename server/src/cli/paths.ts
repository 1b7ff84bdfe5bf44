/**
 * Path checks shared by the subcommands: a bad path is a UsageError naming the flag and the path.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from './args.js';

/** Returns the absolute path of an existing directory, or throws a UsageError that names the flag. */
export function existingDir(flag: string, path: string): string {
  const abs = resolve(path);
  let isDir = false;
  try {
    isDir = statSync(abs).isDirectory();
  } catch {
    throw new UsageError(`--${flag}: no such directory: ${path}`);
  }
  if (!isDir) throw new UsageError(`--${flag}: not a directory: ${path}`);
  return abs;
}

/** Returns the absolute path of an existing regular file, or throws a UsageError. */
export function existingFile(what: string, path: string): string {
  const abs = resolve(path);
  let isFile = false;
  try {
    isFile = statSync(abs).isFile();
  } catch {
    throw new UsageError(`${what}: no such file: ${path}`);
  }
  if (!isFile) throw new UsageError(`${what}: not a file: ${path}`);
  return abs;
}
