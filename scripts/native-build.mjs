// Builds the native engine with cmake-js: the addon, the C++ CLI, the C++ tests (when native/tests
// is there: a clone, not the npm package) and, when nvcc is found, the CUDA module. Prints one ✓/✗
// line per optional part (from CMake's [slipstream] lines). It is the package's postinstall, also
// for `npm install -g slipstream-lsp`: cmake-js and the headers come from npm, nothing else is fetched.
// Usage: node scripts/native-build.mjs [--debug] [extra cmake-js args such as --CDENGINE_CUDA=OFF]
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const debug = args.includes('--debug');
const extra = args.filter((a) => a !== '--debug');
let cmakeJs;
try {
  // wherever npm put it: this package's node_modules, or a parent's when hoisted
  cmakeJs = join(dirname(createRequire(import.meta.url).resolve('cmake-js/package.json')), 'bin', 'cmake-js');
} catch {
  console.error('native-build: cmake-js is not installed; run npm install first');
  process.exit(1);
}
for (const [tool, what] of [['cmake', 'cmake'], ['c++', 'a C++17 compiler (g++ or clang++)']]) {
  if (spawnSync(tool, ['--version'], { encoding: 'utf8' }).status !== 0) {
    console.error(`native-build: ${what} is not installed; the engine builds from source (Debian/Ubuntu: apt install cmake g++)`);
    process.exit(1);
  }
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
