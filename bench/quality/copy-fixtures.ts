/**
 * Copies the held-out TypeScript of `bench quality` into fixtures/quality/: a few source files of
 * npm packages that are NOT in the training corpus (training/corpus/packages.txt), at the versions
 * package-lock.json pins (they are in node_modules as dependencies of the extension's tooling),
 * with each package's licence, and writes fixtures/quality/manifest.json (package, version,
 * licence, files with their sha256). Refuses a package in the corpus list or at another version.
 * Run: `npm run build && node dist/bench/quality/copy-fixtures.js`.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { packageRoot } from '../../server/src/package-root.js';

export interface QualityPackage {
  name: string;
  version: string;
  license: string;
  licenseFile: string;
  files: string[];
}

export const PACKAGES: QualityPackage[] = [
  { name: '@msgpack/msgpack', version: '3.1.3', license: 'ISC', licenseFile: 'LICENSE', files: ['src/Encoder.ts', 'src/Decoder.ts', 'src/ExtensionCodec.ts', 'src/timestamp.ts', 'src/utils/utf8.ts'] },
  { name: 'htmlparser2', version: '10.1.0', license: 'MIT', licenseFile: 'LICENSE', files: ['src/Parser.ts', 'src/Tokenizer.ts'] },
  { name: 'eventsource-parser', version: '3.1.1', license: 'MIT', licenseFile: 'LICENSE', files: ['src/parse.ts', 'src/stream.ts'] },
];

export interface QualityManifest {
  packages: (QualityPackage & { dir: string; sha256: Record<string, string> })[];
}

/** The packages' folder name under fixtures/quality. */
export const packageDir = (p: QualityPackage): string => `${p.name.replace('/', '__')}@${p.version}`;

function main(): void {
  const root = packageRoot();
  const corpus = new Set(
    readFileSync(join(root, 'training', 'corpus', 'packages.txt'), 'utf8')
      .split('\n')
      .map((l) => l.replace(/#.*/, '').trim().split(/\s+/)[0])
      .filter((n): n is string => !!n),
  );
  const out = join(root, 'fixtures', 'quality');
  rmSync(out, { recursive: true, force: true });
  const manifest: QualityManifest = { packages: [] };
  for (const p of PACKAGES) {
    if (corpus.has(p.name)) throw new Error(`${p.name} is in the training corpus: not held out`);
    const src = join(root, 'node_modules', p.name);
    const pkg = JSON.parse(readFileSync(join(src, 'package.json'), 'utf8')) as { version: string; license: string };
    if (pkg.version !== p.version) throw new Error(`${p.name}: node_modules has ${pkg.version}, pinned ${p.version} (npm ci first)`);
    if (pkg.license !== p.license) throw new Error(`${p.name}: licence ${pkg.license}, expected ${p.license}`);
    const dir = packageDir(p);
    const sha256: Record<string, string> = {};
    for (const f of [p.licenseFile, ...p.files]) {
      const to = join(out, dir, f);
      mkdirSync(dirname(to), { recursive: true });
      copyFileSync(join(src, f), to);
      sha256[f] = createHash('sha256').update(readFileSync(to)).digest('hex');
    }
    manifest.packages.push({ ...p, dir, sha256 });
  }
  writeFileSync(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(
    join(out, 'README.md'),
    '# Held-out TypeScript for `slipstream bench quality`\n\n' +
      'Source files of npm packages that are not in the training corpus (`training/corpus/packages.txt`), copied\n' +
      'with their licences by `bench/quality/copy-fixtures.ts` at the versions package-lock.json pins; each\n' +
      "folder is one package (`manifest.json`: versions, licences, sha256). Not part of Slipstream's own code.\n",
  );
  process.stderr.write(`copy-fixtures: ${manifest.packages.length} packages into ${out}\n`);
}

if (require.main === module) main();
