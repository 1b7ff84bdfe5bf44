// Bundles the VS Code extension into extension/dist/extension.js (vscode is external). The server
// itself is not bundled: it is compiled by tsc into dist/ and loads the native addon at run time.
import { build } from 'esbuild';

await build({
  entryPoints: ['extension/src/extension.ts'],
  outfile: 'extension/dist/extension.js',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['vscode'],
  sourcemap: true,
  logLevel: 'warning',
});
