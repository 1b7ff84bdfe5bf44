/**
 * Which server the extension starts: the one bundled in the extension (dist/server.js, run with
 * the extension host's own Node), or the user's `slipstream.server.command`, taken only from the
 * user's settings: a workspace value (a cloned repository's .vscode/settings.json) is never used,
 * so opening a folder cannot choose what runs. Pure (no vscode), so it is unit-tested.
 */

/** What VS Code's configuration `inspect()` reports for one setting (the parts used here). */
export interface Inspected<T> {
  defaultValue?: T;
  globalValue?: T;
  workspaceValue?: T;
  workspaceFolderValue?: T;
}

export type ServerStart =
  | { kind: 'bundled'; module: string; args: string[] }
  | { kind: 'command'; command: string; args: string[] };

/**
 * The bundled server unless the user's own settings name a command ([program, ...args]); either
 * way the server runs `serve --stdio` (for the bundled module the languageclient appends `--stdio`
 * and `--clientProcessId=<pid>` itself).
 */
export function serverStart(setting: Inspected<unknown> | undefined, bundledServer: string, shared: Inspected<unknown> | undefined = undefined): ServerStart {
  const user = setting?.globalValue;
  // slipstream.server.shared (user settings only): a stdio bridge to the shared daemon (serve --stdio --connect)
  const connect = shared?.globalValue === true ? ['--connect'] : [];
  if (Array.isArray(user) && user.length > 0 && user.every((a) => typeof a === 'string' && a !== '')) {
    const [command, ...args] = user as string[];
    return { kind: 'command', command: command!, args: [...args, 'serve', '--stdio', ...connect] };
  }
  return { kind: 'bundled', module: bundledServer, args: ['serve', ...connect] };
}

/** True when a workspace (or folder) sets this setting: it is ignored, and the user may want to know. */
export function setByWorkspace(setting: Inspected<unknown> | undefined): boolean {
  return setting?.workspaceValue !== undefined || setting?.workspaceFolderValue !== undefined;
}

/**
 * A setting that names a program or a path (SETTINGS_SPEC `machine`): the user's value, else the
 * default; never a workspace's. Other settings: whatever VS Code resolves.
 */
export function trustedValue<T>(setting: Inspected<T> | undefined, machine: boolean, resolved: T | undefined): T | undefined {
  if (!machine) return resolved;
  return setting?.globalValue ?? setting?.defaultValue;
}
