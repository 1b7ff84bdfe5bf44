/**
 * A real code-server (VS Code 1.100.3 in the browser, extension host in Node) for the e2e test:
 * a scratch folder with HOME/XDG/TMPDIR, user settings for a quiet workbench (and nothing for
 * Slipstream unless a test asks), the .vsix of `npm run package:extension` installed with
 * `code-server --install-extension` as a user would, and the process bound to 127.0.0.1 in its
 * own process group so teardown leaves nothing behind.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../bench/lib/free-port.js';
import { repoRoot } from '../helpers/paths.js';
import { codeServerBin, vsixPath } from './tools.js';

export interface Scratch {
  root: string;
  home: string;
  tmp: string;
  userData: string;
  extensions: string;
  workspace: string;
  env: Record<string, string>;
}

/** Fresh folders under `root` (wiped first) and the environment that keeps every tool inside them. */
export function makeScratch(root: string): Scratch {
  rmSync(root, { recursive: true, force: true });
  const s = {
    root,
    home: join(root, 'home'),
    tmp: join(root, 'tmp'),
    userData: join(root, 'user-data'),
    extensions: join(root, 'extensions'),
    workspace: join(root, 'workspace'),
  };
  for (const d of [s.home, s.tmp, s.userData, s.extensions]) mkdirSync(d, { recursive: true });
  cpSync(join(repoRoot, 'fixtures', 'workspace'), s.workspace, { recursive: true });
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: s.home,
    XDG_CONFIG_HOME: join(s.home, '.config'),
    XDG_DATA_HOME: join(s.home, '.local', 'share'),
    XDG_CACHE_HOME: join(s.home, '.cache'),
    TMPDIR: s.tmp,
    LANG: 'C.UTF-8',
  };
  return { ...s, env };
}

/** User settings: a quiet workbench, no suggest widget competing with ghost text, no auto-closing. */
export function writeUserSettings(s: Scratch, slipstream: Record<string, unknown>): void {
  const settings = {
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'extensions.ignoreRecommendations': true,
    'security.workspace.trust.enabled': false,
    'chat.commandCenter.enabled': false,
    'editor.inlineSuggest.enabled': true,
    'editor.quickSuggestions': { other: false, comments: false, strings: false },
    'editor.suggestOnTriggerCharacters': false,
    'editor.wordBasedSuggestions': 'off',
    'editor.autoClosingBrackets': 'never',
    'editor.autoClosingQuotes': 'never',
    'editor.formatOnType': false,
    'files.autoSave': 'off',
    'git.enabled': false, // the scratch folder sits inside this checkout's git repository
    ...slipstream,
  };
  const dir = join(s.userData, 'User');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'settings.json'), JSON.stringify(settings, null, 2));
}

/** The workspace's own settings (.vscode/settings.json), as a cloned repository would carry them. */
export function writeWorkspaceSettings(s: Scratch, settings: Record<string, unknown>): void {
  mkdirSync(join(s.workspace, '.vscode'), { recursive: true });
  writeFileSync(join(s.workspace, '.vscode', 'settings.json'), JSON.stringify(settings, null, 2));
}

/**
 * Installs the .vsix into the scratch extensions folder with `code-server --install-extension`,
 * offline. Returns the extension id and the folder it was unpacked to.
 */
export function installVsix(s: Scratch): { id: string; dir: string } {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'extension', 'package.json'), 'utf8')) as { publisher: string; name: string };
  const r = spawnSync(codeServerBin, ['--extensions-dir', s.extensions, '--user-data-dir', s.userData, '--install-extension', vsixPath], {
    env: s.env,
    cwd: s.root,
    encoding: 'utf8',
    timeout: 60_000,
  });
  const id = `${pkg.publisher}.${pkg.name}`;
  const dir = readdirSync(s.extensions).find((d) => d.startsWith(`${id}-`));
  if (r.status !== 0 || !dir) throw new Error(`code-server --install-extension ${vsixPath} failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  return { id, dir: join(s.extensions, dir) };
}


export interface CodeServer {
  url: string;
  proc: ChildProcess;
  logPath: string;
  stop(): void;
}

/** Starts code-server on 127.0.0.1:<free port> and waits for /healthz. */
export async function startCodeServer(s: Scratch): Promise<CodeServer> {
  const port = await freePort();
  const config = join(s.root, 'code-server.yaml');
  writeFileSync(config, 'cert: false\n');
  const logPath = join(s.root, 'code-server.log');
  const log = openSync(logPath, 'w');
  const args = [
    '--config', config, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none',
    '--user-data-dir', s.userData, '--extensions-dir', s.extensions,
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
    '--disable-getting-started-override', '--disable-proxy',
  ];
  const proc = spawn(codeServerBin, args, { env: s.env, cwd: s.root, stdio: ['ignore', log, log], detached: true });
  const stop = (): void => {
    if (proc.pid !== undefined && proc.exitCode === null) {
      try {
        process.kill(-proc.pid, 'SIGKILL'); // the whole group: extension host, language server, watchers
      } catch {
        /* already gone */
      }
    }
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`code-server exited with ${proc.exitCode}:\n${readFileSync(logPath, 'utf8')}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      stop();
      throw new Error(`code-server did not answer /healthz in 60 s:\n${readFileSync(logPath, 'utf8')}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, proc, logPath, stop };
}

/** The extension's log output channel (vscode-languageclient and the server's stderr), for failure reports. */
export function extensionLog(s: Scratch, extensionId: string): string {
  const logs = join(s.userData, 'logs');
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.includes(extensionId) || e.name === 'exthost.log') found.push(`--- ${p}\n${readFileSync(p, 'utf8')}`);
    }
  };
  try {
    walk(logs);
  } catch {
    /* no logs yet */
  }
  return found.join('\n');
}
