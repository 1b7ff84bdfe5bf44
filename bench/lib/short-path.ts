/**
 * Paths in benchmark results without this machine in them: relative to the package root when they
 * lie inside it, as given otherwise.
 */
import { isAbsolute, relative } from 'node:path';
import { packageRoot } from '../../server/src/package-root.js';

export function shortPath(path: string): string {
  const rel = relative(packageRoot(), path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}
