/**
 * Writes fixtures/fuzz/keystrokes.jsonl, the fuzzer's seed traffic: `slipstream bench keystrokes
 * --record` typing through the two files of fixtures/workspace/src against stories260K (one run
 * with the server's default settings, one with debounce 0 and 8 tokens), made machine-independent.
 *
 *   npm run build && node dist/bench/fuzz/record-corpus.js
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../../server/src/package-root.js';
import { cliPath } from '../lib/lsp-client.js';
import { normaliseRecording } from './corpus.js';

const root = packageRoot();
const tmp = mkdtempSync(join(tmpdir(), 'slipstream-corpus-'));
try {
  const runs = [
    ['--file', join(root, 'fixtures', 'workspace', 'src', 'lru-cache.ts'), '--spots', '6', '--chars', '8'],
    ['--file', join(root, 'fixtures', 'workspace', 'src', 'stats.ts'), '--spots', '4', '--chars', '6', '--debounce-ms', '0', '--max-tokens', '8', '--seed', '2'],
  ];
  let out = '';
  runs.forEach((args, i) => {
    const file = join(tmp, `run-${i}.jsonl`);
    const r = spawnSync(process.execPath, [cliPath(), 'bench', 'keystrokes', '--model', join(root, 'fixtures', 'models', 'stories260K'), ...args, '--record', file], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`bench keystrokes failed (${r.status}): ${r.stderr}`);
    out += normaliseRecording(readFileSync(file, 'utf8'), pathToFileURL(root).href);
  });
  const dest = join(root, 'fixtures', 'fuzz', 'keystrokes.jsonl');
  writeFileSync(dest, out);
  process.stderr.write(`wrote ${out.split('\n').length - 1} messages to ${dest}\n`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
