// Proves an installed `slipstream` works as a user gets it: started from / with no flags (no model,
// no drafter, no settings), it loads the shipped default model from its own package, says so in
// slipstream/status, and answers a real inline completion with non-empty text. Speaks LSP through
// the project's client (bench/lib/lsp-client.ts, from dist/). Exit 0 on success, 1 with the reason.
// Usage: node scripts/check-installed-cli.mjs PATH/TO/bin/slipstream   (run by scripts/check-global-install.sh;
// `node scripts/check-installed-cli.mjs bin/slipstream.js` checks this checkout the same way)
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = process.argv[2] && resolve(process.argv[2]);
if (!bin || !existsSync(bin)) {
  console.error(bin ? `check-installed-cli: ${bin} does not exist` : 'usage: node scripts/check-installed-cli.mjs PATH/TO/bin/slipstream');
  process.exit(2);
}
const { LspClient } = await import(join(root, 'dist', 'bench', 'lib', 'lsp-client.js'));
const installed = dirname(dirname(realpathSync(bin))); // <prefix>/lib/node_modules/slipstream-lsp
const fail = (why) => {
  console.error(`check-installed-cli: ${why}`);
  process.exitCode = 1;
};

const messages = [];
const client = new LspClient([], { spawn: { command: [bin], cwd: '/' }, onShowMessage: (m) => messages.push(m) });
try {
  const t0 = Date.now();
  await client.initialize(undefined);
  const text = 'export function clamp(value: number, min: number, max: number): number {\n  if (value < min) return min;\n  ';
  await client.open('file:///tmp/clamp.ts', 'typescript', `${text}\n}\n`);
  const list = await client.inlineCompletion(text.length, 'invoked');
  const status = await client.status();
  const e = status.engine;
  const insert = list?.items?.[0]?.insertText ?? '';
  console.log(`check-installed-cli: ${bin} from /, no flags: ${Date.now() - t0} ms to the first completion`);
  console.log(`  model   ${e.model?.dir} (${e.model?.source}), drafter ${e.drafter?.dir} (${e.drafter?.source})`);
  console.log(`  mode    ${e.mode} (${e.modeDecision?.reason}), backend ${e.backendInUse}`);
  console.log(`  completion ${JSON.stringify(insert)}`);
  if (e.state !== 'ready') fail(`engine state ${e.state}: ${JSON.stringify(e.error)}`);
  if (e.model?.source !== 'default' || !e.model.dir.startsWith(installed)) fail(`expected the shipped model inside ${installed}, got ${e.model?.dir} (${e.model?.source})`);
  if (e.drafter?.source !== 'default') fail(`expected the shipped drafter, got ${JSON.stringify(e.drafter)}`);
  if (insert.trim() === '') fail('the completion is empty');
  if (messages.length > 0) fail(`the server showed messages: ${messages.join(' | ')}`);
} catch (err) {
  fail(err.message);
} finally {
  await client.close();
}
