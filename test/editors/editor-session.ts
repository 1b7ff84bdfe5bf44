/**
 * What the editor tests share: the session interface both editors implement (type keys, wait for
 * the plugin's User events, read the buffer, the cursor and the screen), where the editors are and
 * why a suite skips, and the pure arithmetic that turns a `slipstream/complete` answer into the
 * text a user should see on screen and find in the buffer after accepting.
 */
import { spawnSync } from 'node:child_process';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { repoRoot } from '../helpers/paths.js';
import type { UserEvents } from './user-events.js';

export const fixtureModel = join(repoRoot, 'fixtures', 'models', 'slipstream-code');
export const fixtureDrafter = join(repoRoot, 'fixtures', 'models', 'slipstream-code-drafter');
/** The server command both editor plugins start, as a user's config would spell it. */
export const serverCommand = [process.execPath, join(repoRoot, 'bin', 'slipstream.js'), 'serve', '--stdio', '--model', fixtureModel, '--drafter', fixtureDrafter];

/** The plugins' User events (both fire the same ones). */
export const EVENTS = ['SlipstreamAttached', 'SlipstreamRequest', 'SlipstreamResponse', 'SlipstreamShown', 'SlipstreamCleared', 'SlipstreamAccepted'];

/** Screen size: wide enough that no suggestion of the shipped model (48 tokens) wraps. */
export const SCREEN = { columns: 400, lines: 40 };

export interface Snapshot {
  lines: string[];
  /** 0-based cursor line. */
  row: number;
  /** 0-based cursor byte column. */
  col: number;
  eol: boolean;
  fileformat: 'unix' | 'dos' | 'mac';
  tabstop: number;
  /** Mode as mode() reports it ('i' in Insert mode). */
  mode: string;
  /** Screen rows from the cursor's row on, right-trimmed. */
  screen: string[];
}

/**
 * The slipstream.* settings a test's editor gives its server: the test's own, with
 * completion.minTokenProbability and completion.timeBudgetMs 0 unless they set them. The tests
 * compare what an automatic request shows with slipstream/complete's whole suggestion; the cut
 * before an unsure token and the early answer at the time budget are tested on their own
 * (test/lsp/confidence-native.test.ts, test/lsp/time-budget-native.test.ts).
 */
export function editorSettings(settings: Record<string, unknown> = {}): Record<string, unknown> {
  const completion = (settings.completion ?? {}) as Record<string, unknown>;
  return { ...settings, completion: { minTokenProbability: 0, timeBudgetMs: 0, ...completion } };
}

export interface SessionOptions {
  /** Scratch folder for the editor's own files (Neovim's XDG dirs, Vim's driver config). */
  home: string;
  /** slipstream.* settings for the server the plugin starts. */
  settings?: Record<string, unknown>;
  /** The plugin's debounce (20 ms in the tests). */
  debounceMs?: number;
}

export interface EditorSession {
  readonly name: string;
  /** The plugin's User events, as they arrive. */
  readonly events: UserEvents;
  /** Runs an Ex command. */
  ex(command: string): Promise<void>;
  /** Appends lines at the end of the buffer (set up, not typed). */
  append(lines: string[]): Promise<void>;
  /** Types keys (Vim key notation: `<Left>`, `<C-l>`) as if from the keyboard. */
  type(keys: string): Promise<void>;
  snapshot(): Promise<Snapshot>;
  /** The plugin's state() (for diagnostics and the outcome of the last request). */
  pluginState(): Promise<any>;
  /** `slipstream/status` from the editor's own server, through the plugin. */
  status(): Promise<any>;
  close(): Promise<void>;
}

/** Opens a file in the editor and resolves once the plugin attached its buffer to the server. */
export async function openFile(editor: EditorSession, path: string): Promise<void> {
  const since = editor.events.mark();
  await editor.ex(`edit ${path.replace(/ /g, '\\ ')}`);
  await editor.events.waitFor('SlipstreamAttached', since, 20_000, 'the server starts and answers initialize in about a second');
}

export interface EditorTool {
  path: string;
  version: string;
}

/** The editor binary and its version line, or a one-line reason it cannot be used. */
export function findEditor(bin: 'nvim' | 'vim', minimum: (versionLine: string) => string | undefined): EditorTool | { skip: string } {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    const reason = `${bin} is not installed (apt-get install ${bin === 'nvim' ? 'neovim' : 'vim'}; .ci/run installs it)`;
    if (process.env.CI) throw new Error(`CI must run the editor tests, but ${reason}`);
    return { skip: reason };
  }
  const version = r.stdout.split('\n').slice(0, 3).join(' ');
  const tooOld = minimum(r.stdout);
  if (tooOld) return { skip: `${bin} ${tooOld}` };
  return { path: bin, version };
}

/** The text a client sends for the buffer: lines joined by the file's line ending, plus one at the end when 'eol'. */
export function documentText(s: Pick<Snapshot, 'lines' | 'eol' | 'fileformat'>): string {
  const nl = s.fileformat === 'dos' ? '\r\n' : s.fileformat === 'mac' ? '\r' : '\n';
  return s.lines.join(nl) + (s.eol ? nl : '');
}

/** UTF-16 offset in documentText of the cursor (line, byte column). */
export function cursorOffset(s: Pick<Snapshot, 'lines' | 'eol' | 'fileformat' | 'row' | 'col'>): number {
  const before = documentText({ lines: s.lines.slice(0, s.row), eol: s.row > 0, fileformat: s.fileformat });
  return before.length + Buffer.from(s.lines[s.row]!, 'utf8').subarray(0, s.col).toString('utf8').length;
}

/** The buffer's lines after replacing [start, end) of `text` (UTF-16 offsets) with `insert`. */
export function linesAfter(text: string, start: number, end: number, insert: string, eol: boolean): string[] {
  const lines = (text.slice(0, start) + insert + text.slice(end)).split(/\r\n|\n|\r/);
  if (eol) lines.pop();
  return lines;
}

/** A line as the screen shows it: tabs expanded to `tabstop`, trailing blanks gone. */
export function displayed(line: string, tabstop: number): string {
  let out = '';
  let cells = 0; // one per character: the tests use no double-width characters
  for (const ch of line) {
    const n = ch === '\t' ? tabstop - (cells % tabstop) : 1;
    out += ch === '\t' ? ' '.repeat(n) : ch;
    cells += n;
  }
  return out.trimEnd();
}

/** The screen rows a suggestion `insert` at cursor line `row` should occupy: the lines it touches after accepting. */
export function expectedScreen(after: string[], row: number, insert: string, tabstop: number): string[] {
  const count = insert.split(/\r\n|\n|\r/).length;
  return after.slice(row, row + count).map((l) => displayed(l, tabstop));
}

/** Calls `onMessage` with each line of JSON an editor's test driver sends on `socket` (blank lines skipped). */
export function onJsonLines(socket: Socket, onMessage: (message: unknown[]) => void): void {
  createInterface({ input: socket, crlfDelay: Infinity }).on('line', (line) => {
    if (line.trim() !== '') onMessage(JSON.parse(line) as unknown[]);
  });
}
