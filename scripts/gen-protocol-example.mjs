// Rewrites the `// result` line of docs/protocol.md's slipstream/complete example with what the
// server really answers to its `// params` line: `slipstream serve --stdio` with nothing
// configured (the shipped model), greedy. The answer depends on the kernels (a near-tie may break
// the other way on another path), and test/e2e/protocol-example.test.ts checks it exactly only on
// the path it was made with, so run this on a CPU with AVX-512 BF16 (Zen 4, Xeon):
//   npm run build && node scripts/gen-protocol-example.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { LspClient } = await import(join(root, 'dist', 'bench', 'lib', 'lsp-client.js'));
const { backends } = await import(join(root, 'dist', 'native', 'lib', 'index.js'));

/** JSON on one line with spaces inside braces and brackets and after colons and commas, as the page writes it. */
function oneLine(v) {
  if (Array.isArray(v)) return `[ ${v.map(oneLine).join(', ')} ]`;
  if (v && typeof v === 'object') return `{ ${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${oneLine(x)}`).join(', ')} }`;
  return JSON.stringify(v);
}

const device = backends()[0]?.device ?? '';
if (!device.includes('avx512+bf16')) {
  process.stderr.write(`gen-protocol-example: this CPU runs "${device}", not the AVX-512 BF16 kernels the example is checked on\n`);
  process.exit(1);
}
const path = join(root, 'docs', 'protocol.md');
const doc = readFileSync(path, 'utf8');
const start = doc.indexOf('## slipstream/complete');
const params = /\/\/ params\n(.*)\n/.exec(doc.slice(start));
const result = /\/\/ result\n(.*)\n/.exec(doc.slice(start));
if (!params || !result) throw new Error('docs/protocol.md: no "// params" / "// result" lines under "## slipstream/complete"');
const client = new LspClient([]);
try {
  await client.initialize(undefined);
  const answer = await client.request('slipstream/complete', JSON.parse(params[1]));
  const line = oneLine(answer);
  const at = start + result.index + '// result\n'.length;
  writeFileSync(path, doc.slice(0, at) + line + doc.slice(at + result[1].length));
  process.stdout.write(`docs/protocol.md: // result ${line}\n`);
} finally {
  client.close();
}
