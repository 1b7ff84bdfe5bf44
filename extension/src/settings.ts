/**
 * The `slipstream.*` settings as the extension reads and writes them: the server's settings
 * (every name in server/src/config.ts's SETTINGS_SPEC, sent to the server as one flat section,
 * with program and path settings taken only from the user's own settings), the server command,
 * and the on/off switches (globally: the server's `completion.enabled`; per language:
 * `slipstream.languages`). Not the server's validation: the server checks every value itself.
 */
import * as vscode from 'vscode';
import { SETTINGS_SPEC } from '../../server/src/config.js';
import { documentEnabled, toggledLanguages } from './language-gate.js';
import { serverStart, setByWorkspace, trustedValue, type Inspected, type ServerStart } from './server-command.js';

const SECTION = 'slipstream';
const config = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration(SECTION);

/** The server's settings as the server should see them: dotted names under `slipstream.`. */
export function serverSection(): Record<string, unknown> {
  const c = config();
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(SETTINGS_SPEC)) {
    const value = trustedValue(c.inspect(name) as Inspected<unknown> | undefined, spec.machine === true, c.get(name));
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** Program and path settings a workspace tried to set (ignored), for one warning in the log. */
export function workspaceOverridesIgnored(): string[] {
  const c = config();
  const names = ['server.command', 'server.shared', ...Object.entries(SETTINGS_SPEC).filter(([, s]) => s.machine).map(([n]) => n)];
  return names.filter((n) => setByWorkspace(c.inspect(n) as Inspected<unknown> | undefined)).map((n) => `${SECTION}.${n}`);
}

/** The server to start (the bundled one unless the user's settings name a command). */
export function serverToStart(bundledServer: string): ServerStart {
  const c = config();
  return serverStart(c.inspect('server.command') as Inspected<unknown> | undefined, bundledServer, c.inspect('server.shared') as Inspected<unknown> | undefined);
}

export function suggestionsOn(): boolean {
  return config().get<boolean>('completion.enabled') !== false;
}

export function documentOn(doc: { languageId: string; uri: { fsPath: string; path: string } }): boolean {
  return documentEnabled(config().get<Record<string, unknown>>('languages'), doc.languageId, doc.uri.path);
}

/** Turns suggestions on or off everywhere (the user's settings). */
export async function toggleSuggestions(): Promise<boolean> {
  const next = !suggestionsOn();
  await config().update('completion.enabled', next, vscode.ConfigurationTarget.Global);
  return next;
}

/** Turns suggestions on or off for one language (the user's settings); returns the new state. */
export async function toggleLanguage(languageId: string): Promise<boolean> {
  const next = toggledLanguages(config().get<Record<string, unknown>>('languages'), languageId);
  await config().update('languages', next, vscode.ConfigurationTarget.Global);
  return next[languageId]!;
}
