// `npm start`: the first thing a newcomer runs. It serves completions from the shipped default model
// and drives the server like an editor. Until the pieces it needs exist, it says what is missing.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const demo = join(root, 'dist', 'server', 'src', 'demo', 'main.js');
const model = join(root, 'fixtures', 'models', 'slipstream-code');

const missing = [];
if (!existsSync(join(root, 'native', 'build', 'Release', 'engine_addon.node'))) missing.push('the native engine is not built (run npm install)');
if (!existsSync(join(model, 'config.json'))) missing.push(`the shipped default model is not there yet (${model}; the training issue makes it)`);
if (!existsSync(demo)) missing.push('the editor demo that drives the server is not there yet (the language-server issue adds it)');
if (missing.length > 0) {
  console.error('slipstream: cannot show completions yet:');
  for (const m of missing) console.error(`  - ${m}`);
  process.exit(1);
}
const { runDemo } = await import(demo);
process.exit(await runDemo({ modelDir: model, argv: process.argv.slice(2) }));
