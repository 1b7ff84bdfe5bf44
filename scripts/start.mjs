// `npm start`: the first thing a newcomer runs. It serves completions from the shipped default model
// (and its drafter when present) and drives the server like an editor. While the shipped model is
// absent it falls back to ../shared/models/stories260K, saying so. Otherwise it says what is missing.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const demo = join(root, 'dist', 'server', 'src', 'demo', 'main.js');
const shipped = join(root, 'fixtures', 'models', 'slipstream-code');
const drafter = join(root, 'fixtures', 'models', 'slipstream-code-drafter');
const stories = join(process.env.SLIPSTREAM_SHARED_DIR ?? join(root, '..', 'shared'), 'models', 'stories260K');

let model = shipped;
if (!existsSync(join(shipped, 'config.json')) && existsSync(join(stories, 'config.json'))) {
  model = stories;
  console.error(`slipstream: the shipped code model is not there yet (${shipped}); using ${stories} instead.`);
  console.error('slipstream: note: stories260K is a tiny story model, not a code model: expect prose, not code.\n');
}

const missing = [];
if (!existsSync(join(root, 'native', 'build', 'Release', 'engine_addon.node'))) missing.push('the native engine is not built (run npm install)');
if (!existsSync(join(model, 'config.json'))) missing.push(`the shipped default model is not there yet (${shipped}; the training issue makes it)`);
if (!existsSync(demo)) missing.push('the editor demo that drives the server is not built (run npm run build)');
if (missing.length > 0) {
  console.error('slipstream: cannot show completions yet:');
  for (const m of missing) console.error(`  - ${m}`);
  process.exit(1);
}
const { runDemo } = await import(demo);
const drafterDir = model === shipped && existsSync(join(drafter, 'config.json')) ? drafter : undefined;
process.exit(await runDemo({ modelDir: model, drafterDir, argv: process.argv.slice(2) }));
