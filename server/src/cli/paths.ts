/**
 * Path checks shared by the subcommands: a bad path is a UsageError naming the flag and the path;
 * the model pair a subcommand loads when --model is not given (the shipped pair).
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { defaultModelDirs } from '../completion/default-model.js';
import { UsageError, type ParsedArgs } from './args.js';

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

/**
 * The model and drafter folders for --model/--drafter: as given, or with no --model the shipped
 * model, with the shipped drafter unless --drafter names another (as `serve` does).
 */
export function modelDirsFromFlags(f: ParsedArgs['flags']): { modelDir: string; drafterDir: string | undefined } {
  const drafterDir = f.drafter === undefined ? undefined : existingDir('drafter', f.drafter as string);
  if (f.model !== undefined) return { modelDir: existingDir('model', f.model as string), drafterDir };
  const shipped = defaultModelDirs();
  return { modelDir: shipped.model, drafterDir: drafterDir ?? shipped.drafter };
}
