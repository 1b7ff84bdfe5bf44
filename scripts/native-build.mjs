// Builds the native engine with cmake-js: the addon, the C++ CLI, the C++ tests and, when nvcc is
// found, the CUDA module. Prints one ✓/✗ line per optional part (from CMake's [slipstream] lines).
// Usage: node scripts/native-build.mjs [--debug] [extra cmake-js args such as --CDENGINE_CUDA=OFF]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const debug = args.includes('--debug');
const extra = args.filter((a) => a !== '--debug');
const cmakeJs = join(root, 'node_modules', 'cmake-js', 'bin', 'cmake-js');
if (!existsSync(cmakeJs)) {
  console.error('native-build: cmake-js is not installed; run npm install first');
  process.exit(1);
}
const started = Date.now();
const result = spawnSync(
  process.execPath,
  [cmakeJs, 'compile', '--directory', join(root, 'native'), '--out', join(root, 'native', 'build'),
    ...(debug ? ['--debug'] : []), '--parallel', String(Math.max(1, cpus().length)), ...extra],
  { cwd: root, encoding: 'utf8', env: { ...process.env, CMAKE_BUILD_PARALLEL_LEVEL: String(cpus().length) } },
);
const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
const report = output.split('\n').filter((l) => l.includes('[slipstream]')).map((l) => l.replace(/^.*\[slipstream\]\s*/, ''));
if (result.status !== 0) {
  process.stderr.write(output);
  console.error(`native-build: cmake-js failed with exit code ${result.status}`);
  process.exit(result.status ?? 1);
}
for (const line of new Set(report)) console.error(`native-build: ${line}`);
console.error(`native-build: done in ${((Date.now() - started) / 1000).toFixed(1)} s (${debug ? 'Debug' : 'Release'})`);
