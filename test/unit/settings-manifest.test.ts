/**
 * One source of truth for the settings: the VS Code extension declares every server setting with
 * the server's default, type, range and description, and docs/configuration.md's table matches,
 * both as `npm run gen:settings` writes them from server/src/config.ts. Settings that name a
 * program or a path are machine-scoped and restricted in untrusted workspaces.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultSettings, SETTINGS_SPEC } from '../../server/src/config.js';
import { vscodeSettings, withSettingsTable, withVscodeSettings } from '../../server/src/settings-manifest.js';
import { repoRoot } from '../helpers/paths.js';

const extensionPkg = JSON.parse(readFileSync(join(repoRoot, 'extension', 'package.json'), 'utf8'));
const props: Record<string, { default: unknown; scope?: string }> = extensionPkg.contributes.configuration.properties;

describe('settings manifest', () => {
  it('extension/package.json declares every server setting as generated (run npm run gen:settings)', () => {
    expect(extensionPkg).toEqual(withVscodeSettings(extensionPkg));
    for (const name of Object.keys(SETTINGS_SPEC)) expect(props).toHaveProperty([`slipstream.${name}`]);
  });

  it("the extension's defaults are the server's (no override of debounceMs or maxTokens)", () => {
    const d = defaultSettings();
    expect(props['slipstream.completion.debounceMs']!.default).toBe(d.completion.debounceMs);
    expect(props['slipstream.completion.maxTokens']!.default).toBe(d.completion.maxTokens);
    for (const [name, s] of Object.entries(vscodeSettings())) expect(props[name]!.default).toEqual(s.default);
  });

  it('docs/configuration.md has the generated table', () => {
    const doc = readFileSync(join(repoRoot, 'docs', 'configuration.md'), 'utf8');
    expect(doc).toBe(withSettingsTable(doc));
  });

  it('settings that name a program or a path are machine-scoped and restricted in untrusted workspaces', () => {
    const machine = Object.entries(props).filter(([, p]) => p.scope === 'machine').map(([k]) => k).sort();
    expect(machine).toEqual([
      'slipstream.engine.drafter',
      'slipstream.engine.model',
      'slipstream.engine.remote.apiKeyEnv',
      'slipstream.engine.remote.url',
      'slipstream.server.command',
      'slipstream.server.shared',
      'slipstream.trace.file',
      'slipstream.trace.otlpEndpoint',
    ]);
    expect([...extensionPkg.capabilities.untrustedWorkspaces.restrictedConfigurations].sort()).toEqual(machine);
  });

  it('the extension and the npm package carry one version', () => {
    const root = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
    expect(extensionPkg.version).toBe(root.version);
  });
});
