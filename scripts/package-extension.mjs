// `npm run package:extension`: builds the VS Code extension as a .vsix that carries everything it
// needs, so it works with no settings: the bundled extension (dist/extension.js), the bundled
// server (dist/server.js: the whole `slipstream` command in one file, run by the extension host's
// Node), the engine built for this platform beside it (engine_addon.node, and engine-cuda.so when
// built; native/lib/binding.ts finds them there), and the shipped model and drafter
// (fixtures/models/slipstream-code{,-drafter}). Stages it in dist/vscode-extension/ and packs it
// offline with @vscode/vsce into dist/slipstream-vscode-<version>.vsix. `--bundle-only` stops
// before packing (npm run build:extension). Needs the native build (npm install does it).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundleOnly = process.argv.includes('--bundle-only');
const stage = join(root, 'dist', 'vscode-extension');
const release = join(root, 'native', 'build', 'Release');
const pkg = JSON.parse(readFileSync(join(root, 'extension', 'package.json'), 'utf8'));
const vsix = join(root, 'dist', `${pkg.name}-${pkg.version}.vsix`);
const t0 = Date.now();

if (!existsSync(join(release, 'engine_addon.node'))) {
  console.error('package-extension: the engine is not built (native/build/Release/engine_addon.node); run npm install or npm run build:native');
  process.exit(1);
}
rmSync(stage, { recursive: true, force: true });
mkdirSync(join(stage, 'dist'), { recursive: true });

const common = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'warning', legalComments: 'none' };
// The extension: vscode is provided by the editor.
await build({ ...common, entryPoints: [join(root, 'extension', 'src', 'extension.ts')], outfile: join(stage, 'dist', 'extension.js'), external: ['vscode'] });
// The server: bin/slipstream.js's job in one file. The addon is required by a path found at run
// time (beside this file), which esbuild rightly leaves alone.
await build({
  ...common,
  stdin: {
    contents: "require('./server/src/cli/main.ts').main(process.argv.slice(2)).then((code) => { process.exitCode = code; });",
    resolveDir: root,
    sourcefile: 'slipstream-server.js',
    loader: 'js',
  },
  outfile: join(stage, 'dist', 'server.js'),
  logOverride: { 'unsupported-require-call': 'silent' },
});

for (const f of ['engine_addon.node', 'engine-cuda.so']) if (existsSync(join(release, f))) cpSync(join(release, f), join(stage, 'dist', f));
for (const m of ['slipstream-code', 'slipstream-code-drafter']) cpSync(join(root, 'fixtures', 'models', m), join(stage, 'fixtures', 'models', m), { recursive: true });
cpSync(join(root, 'extension', 'package.json'), join(stage, 'package.json'));
cpSync(join(root, 'extension', 'README.md'), join(stage, 'README.md'));
cpSync(join(root, 'LICENSE'), join(stage, 'LICENSE'));
console.error(`package-extension: staged ${stage} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
if (bundleOnly) process.exit(0);

// The engine is built for this machine: mark the .vsix for this platform (linux-x64, darwin-arm64, ...).
const target = `${process.platform}-${process.arch}`;
const vsce = join(root, 'node_modules', '.bin', 'vsce');
const r = spawnSync(vsce, ['package', '--no-dependencies', '--allow-missing-repository', '--target', target, '--out', vsix], { cwd: stage, encoding: 'utf8' });
if (r.status !== 0) {
  process.stderr.write(`${r.stdout}${r.stderr}`);
  console.error(`package-extension: vsce failed with exit code ${r.status}`);
  process.exit(1);
}
console.error(`package-extension: ${vsix} (${target}, ${(statSync(vsix).size / 1e6).toFixed(1)} MB) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
