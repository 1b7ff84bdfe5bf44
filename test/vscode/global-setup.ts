/**
 * Once per `vitest --project vscode` run: builds the .vsix under test with `npm run
 * package:extension` (bundled extension and server, the engine, the shipped model), when the
 * e2e tools are there (else the suite skips and nothing is built).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.js';
import { vscodeToolsMissing } from './tools.js';

export function setup(): void {
  if (vscodeToolsMissing() && !process.env.SLIPSTREAM_VSCODE_E2E_REQUIRED) return;
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'package-extension.mjs')], { cwd: repoRoot, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run package:extension failed:\n${r.stdout}${r.stderr}`);
  console.log(`vscode e2e: packaged the .vsix in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
