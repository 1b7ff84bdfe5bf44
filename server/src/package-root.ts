/**
 * Where this package is installed: the folder of Slipstream's package.json (beside bin/, dist/,
 * fixtures/), found by walking up from this file, so it is right from source (vitest), from dist/
 * in a clone, from an npm install anywhere (node_modules/slipstream-lsp/dist/...) and in the VS
 * Code extension, whose bundled server (dist/server.js) sits below the extension's package.json
 * with fixtures/ beside it. Not the user's working directory or workspace.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let cached: string | undefined;

/** The npm package (the CLI and server) and the VS Code extension that bundles the server. */
export const PACKAGE_NAMES = ['slipstream-lsp', 'slipstream-vscode'];

/** The package root: the nearest folder above this file whose package.json has one of PACKAGE_NAMES. */
export function packageRoot(): string {
  if (cached !== undefined) return cached;
  let dir = __dirname;
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && PACKAGE_NAMES.includes((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name ?? '')) return (cached = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json named ${PACKAGE_NAMES.join(' or ')} above ${__dirname}`);
    dir = up;
  }
}
