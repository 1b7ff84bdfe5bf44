// `npm test`: brings the builds up to date (TypeScript and the native engine; both are incremental),
// then runs every vitest project and the C++ tests (ctest). Exits non-zero if anything failed, and
// then ends with the failed vitest tests again (their file, name and first message lines), so the
// tail of a long log (CI keeps only its tail) says what failed.
// Extra arguments go to vitest (e.g. `npm test -- --project unit`).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
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

/** The failed tests in vitest's JSON report (its `json` reporter), a few lines each; [] when it has none or cannot be read. */
function failedTests(reportPath) {
  let report;
  try {
    report = JSON.parse(readFileSync(reportPath, 'utf8'));
  } catch {
    return [];
  }
  const lines = [];
  const firstLines = (text) => String(text).split('\n').filter((l) => l.trim() !== '' && !l.includes('node_modules')).slice(0, 4).map((l) => `      ${l.trim()}`);
  for (const file of report.testResults ?? []) {
    const name = relative(root, file.name ?? '');
    const failed = (file.assertionResults ?? []).filter((a) => a.status === 'failed');
    for (const a of failed) lines.push(`  FAIL ${name} > ${a.fullName}`, ...firstLines((a.failureMessages ?? []).join('\n')));
    // a file that failed outside its tests (an import, a hook)
    if (failed.length === 0 && file.status === 'failed') lines.push(`  FAIL ${name}`, ...firstLines(file.message ?? ''));
  }
  return lines;
}

const reportDir = mkdtempSync(join(tmpdir(), 'slipstream-npm-test-'));
const report = join(reportDir, 'vitest.json');
const results = [];
let vitestOk = true;
results.push(step('build (TypeScript)', bin('tsc'), ['-p', 'tsconfig.json']));
results.push(step('build (native)', process.execPath, [join(root, 'scripts', 'native-build.mjs')]));
if (results.every(Boolean)) {
  vitestOk = step('vitest', bin('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)]);
  results.push(vitestOk);
  results.push(step('ctest', 'ctest', ['--test-dir', join(root, 'native', 'build'), '--output-on-failure']));
}
if (!vitestOk) {
  const lines = failedTests(report);
  console.error(`\n== vitest failed:${lines.length > 0 ? '' : ' no failed test in its report (an error outside the tests: see the vitest output above)'}`);
  for (const l of lines) console.error(l);
}
rmSync(reportDir, { recursive: true, force: true });
process.exit(results.every(Boolean) ? 0 : 1);
