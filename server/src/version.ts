/**
 * The package version, read from the root package.json whether this code runs from source
 * (vitest) or from dist/ (built).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

function findPackageJson(start: string): string {
  let dir = start;
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate) && JSON.parse(readFileSync(candidate, 'utf8')).name === 'slipstream') return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`package.json of slipstream not found above ${start}`);
    dir = parent;
  }
}

export const VERSION: string = JSON.parse(readFileSync(findPackageJson(__dirname), 'utf8')).version;
