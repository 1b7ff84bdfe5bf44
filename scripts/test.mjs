// `npm test`: brings the builds up to date (TypeScript and the native engine; both are incremental),
// then runs every vitest project and the C++ tests (ctest). Exits non-zero if anything failed.
// Extra arguments go to vitest (e.g. `npm test -- --project unit`).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);

function step(title, command, args) {
  const started = Date.now();
  console.error(`\n== ${title}`);
  const r = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  console.error(`== ${title}: ${r.status === 0 ? 'ok' : `FAILED (exit ${r.status ?? r.signal})`} in ${secs} s`);
  return r.status === 0;
}

const results = [];
results.push(step('build (TypeScript)', bin('tsc'), ['-p', 'tsconfig.json']));
results.push(step('build (native)', process.execPath, [join(root, 'scripts', 'native-build.mjs')]));
if (results.every(Boolean)) {
  results.push(step('vitest', bin('vitest'), ['run', ...process.argv.slice(2)]));
  results.push(step('ctest', 'ctest', ['--test-dir', join(root, 'native', 'build'), '--output-on-failure']));
}
process.exit(results.every(Boolean) ? 0 : 1);
