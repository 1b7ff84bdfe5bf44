// Writes the server's settings where others declare them, from server/src/config.ts (compiled to
// dist/ by `npm run gen:settings`, which builds first): the VS Code extension's
// contributes.configuration (extension/package.json) and the table in docs/configuration.md.
// test/unit/settings-manifest.test.ts fails when either is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { withSettingsTable, withVscodeSettings } = await import(join(root, 'dist', 'server', 'src', 'settings-manifest.js'));

const pkgPath = join(root, 'extension', 'package.json');
const pkg = withVscodeSettings(JSON.parse(readFileSync(pkgPath, 'utf8')));
writeFileSync(pkgPath, `${JSON.stringify(pkg, null, 2)}\n`);
const docPath = join(root, 'docs', 'configuration.md');
writeFileSync(docPath, withSettingsTable(readFileSync(docPath, 'utf8')));
console.error(`gen-settings: wrote ${Object.keys(pkg.contributes.configuration.properties).length} settings to extension/package.json and the table in docs/configuration.md`);
