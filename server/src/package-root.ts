/**
 * Where this package is installed: the folder of slipstream's package.json (beside bin/, dist/,
 * fixtures/), found by walking up from this file, so it is right from source (vitest), from dist/
 * in a clone and from an npm install anywhere (node_modules/slipstream/dist/...). Not the user's
 * working directory or workspace.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let cached: string | undefined;

/** The package root: the nearest folder above this file whose package.json is named "slipstream". */
export function packageRoot(): string {
  if (cached !== undefined) return cached;
  let dir = __dirname;
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'slipstream') return (cached = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error(`the slipstream package.json was not found above ${__dirname}`);
    dir = up;
  }
}
