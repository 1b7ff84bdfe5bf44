// `npm start`: the first thing a newcomer runs. It serves completions from the shipped default model
// and its ReDrafter head (fixtures/models/, made by training/) and drives the server like an editor:
// types a fixture file, shows each suggestion with its latency, then a summary. If a piece is
// missing (a build that did not run), it says exactly which instead of pretending.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const demo = join(root, 'dist', 'bench', 'demo', 'main.js');
const model = join(root, 'fixtures', 'models', 'slipstream-code');
const drafter = join(root, 'fixtures', 'models', 'slipstream-code-drafter');

const missing = [];
if (!existsSync(join(root, 'native', 'build', 'Release', 'engine_addon.node'))) missing.push('the native engine is not built (run npm install)');
if (!existsSync(join(model, 'config.json'))) missing.push(`the shipped default model is missing (${model}; training/README.md makes it)`);
if (!existsSync(demo)) missing.push('the editor demo that drives the server is not built (run npm run build)');
if (missing.length > 0) {
  console.error('slipstream: cannot show completions:');
  for (const m of missing) console.error(`  - ${m}`);
  process.exit(1);
}
const { runDemo } = await import(demo);
const drafterDir = existsSync(join(drafter, 'config.json')) ? drafter : undefined;
process.exit(await runDemo({ modelDir: model, drafterDir, argv: process.argv.slice(2) }));
