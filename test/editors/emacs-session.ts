/**
 * A real Emacs (`emacs -Q --batch`, no user config) with editors/emacs loaded by
 * test/editors/emacs-driver.el, which connects back to this test over TCP: the test calls driver
 * functions (type keys with execute-kbd-macro, read the buffer, point and the client's overlay,
 * send the client's server a request, hand the client a server notification, record what the client
 * asks and shows), the client's events (slipstream-event-functions) come back as messages. Emacs's own messages (batch mode writes them to stderr) are kept for assertions.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.js';
import { editorSettings, onJsonLines, serverCommand } from './editor-session.js';
import { UserEvents } from './user-events.js';

export const emacsLisp = join(repoRoot, 'editors', 'emacs');
const driver = join(repoRoot, 'test', 'editors', 'emacs-driver.el');

/** The emacs binary and its version, or a one-line reason it cannot be used. */
export function findEmacs(): { path: string; version: string } | { skip: string } {
  const r = spawnSync('emacs', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    const reason = 'emacs is not installed (apt-get install emacs-nox; .ci/run installs it)';
    if (process.env.CI) throw new Error(`CI must run the editor tests, but ${reason}`);
    return { skip: reason };
  }
  const version = r.stdout.split('\n')[0]!;
  const m = /GNU Emacs (\d+)\./.exec(version);
  if (!m || Number(m[1]) < 28) return { skip: `${version} is older than 28.1, the oldest the client supports` };
  return { path: 'emacs', version };
}

export interface EmacsOverlay {
  /** 0-based character offsets in the buffer (code points, as Emacs counts). */
  start: number;
  end: number;
  display: string | null;
  after: string | null;
  /** Shown only in the selected window. */
  window: boolean;
  /** Per character of display + after: 1 in slipstream-suggestion-face, else 0. */
  faces: number[];
}

export interface EmacsSnapshot {
  text: string;
  /** 0-based character offset of point (code points). */
  point: number;
  mode: boolean;
  /** slipstream-completion-map is active. */
  active: boolean;
  uri: string | null;
  version: number;
  overlays: EmacsOverlay[];
  state: {
    server: string | null;
    problem: string | null;
    encoding: string;
    pending: number | null;
    suggestion: { text: string; start: number; end: number; index: number; texts: string[] } | null;
    last: { outcome: string; message: string | null } | null;
  };
}

/** One step of the client's record (EmacsSession.record): what it asked, showed, or was told. */
export type RecordEntry =
  | { kind: 'request'; trigger: number; version: number; position: { line: number; character: number } }
  | { kind: 'shown'; text: string }
  | { kind: 'finished'; version: number; position: { line: number; character: number } };

export interface EmacsOptions {
  home: string;
  /** slipstream-settings (nested, as JSON). */
  settings?: Record<string, unknown>;
  /** slipstream-position-encodings. */
  encodings?: string[];
  /** slipstream-command; default: this checkout's server with the shipped model. */
  command?: string[];
  /** slipstream-idle-delay in seconds (0.02 in the tests). */
  idleDelay?: number;
  /** Run `emacs -nw` in a tmux terminal of this size (keys typed into it, its screen read back) rather than `--batch`. */
  terminal?: { columns: number; lines: number };
}

/** tmux, for the terminal test, or a one-line reason it cannot be used. */
export function findTmux(): { version: string } | { skip: string } {
  const r = spawnSync('tmux', ['-V'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    const reason = 'tmux is not installed (apt-get install tmux; .ci/run installs it)';
    if (process.env.CI) throw new Error(`CI must run the editor tests, but ${reason}`);
    return { skip: reason };
  }
  return { version: r.stdout.trim() };
}

export class EmacsSession {
  readonly events = new UserEvents('emacs', async () => `emacs stderr: ${this.stderr.slice(-3000)}`);
  /** What Emacs wrote to stderr: its messages, in batch mode. */
  stderr = '';
  private replies = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private socket: Socket | undefined;
  private readonly exited: Promise<void>;

  private constructor(
    private readonly proc: ChildProcess,
    private readonly server: Server,
    /** The tmux socket name of a terminal session. */
    private readonly tmux: string | undefined,
  ) {
    this.exited = new Promise((resolve) => proc.on('exit', () => resolve()));
    proc.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString('utf8')));
  }

  static async start(opts: EmacsOptions): Promise<EmacsSession> {
    const config = join(opts.home, 'emacs-driver.json');
    writeFileSync(
      config,
      JSON.stringify({
        lisp: emacsLisp,
        command: opts.command ?? serverCommand,
        settings: editorSettings(opts.settings),
        idleDelay: opts.idleDelay ?? 0.02,
        encodings: opts.encodings ?? ['utf-32', 'utf-16'],
        root: opts.home,
      }),
    );
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    // SLIPSTREAM_DEBUG_METHODS: the server the client starts answers slipstream/debug/document
    const env = { ...process.env, SLIPSTREAM_TEST_PORT: String(port), SLIPSTREAM_TEST_CONFIG: config, SLIPSTREAM_DEBUG_METHODS: '1', HOME: opts.home };
    let proc: ChildProcess;
    let tmux: string | undefined;
    if (opts.terminal) {
      // a tmux server of its own, whose one window runs Emacs; `tmux wait-for` ends with Emacs
      tmux = `slipstream-emacs-${process.pid}-${port}`;
      const vars = Object.entries({ SLIPSTREAM_TEST_PORT: env.SLIPSTREAM_TEST_PORT, SLIPSTREAM_TEST_CONFIG: config, SLIPSTREAM_DEBUG_METHODS: '1', HOME: opts.home });
      const emacs = `emacs -nw -Q -l ${driver}; tmux -L ${tmux} wait-for -S emacs-exited`;
      const r = spawnSync('tmux', ['-L', tmux, '-f', '/dev/null', 'new-session', '-d', '-s', 'emacs', '-x', String(opts.terminal.columns), '-y', String(opts.terminal.lines), ...vars.flatMap(([k, v]) => ['-e', `${k}=${v}`]), '-c', opts.home, emacs], { env, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`tmux new-session failed: ${r.stderr}`);
      proc = spawn('tmux', ['-L', tmux, 'wait-for', 'emacs-exited'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    } else {
      proc = spawn('emacs', ['-Q', '--batch', '-l', driver], { cwd: opts.home, env, stdio: ['ignore', 'pipe', 'pipe'] });
    }
    proc.stdout!.resume();
    const session = new EmacsSession(proc, server, tmux);
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`emacs did not connect back within 10 s (it starts in ~0.2 s); stderr: ${session.stderr}`)), 10_000);
      proc.on('exit', (code) => reject(new Error(`emacs exited (${code}) before connecting; stderr: ${session.stderr}`)));
      server.once('connection', (socket: Socket) => {
        session.socket = socket;
        onJsonLines(socket, ([head, value, error]) => {
          if (head === 'ready') {
            clearTimeout(timer);
            resolve();
          } else if (head === 'event') {
            session.events.push(String(value));
          } else if (typeof head === 'number') {
            const reply = session.replies.get(head);
            session.replies.delete(head);
            if (typeof error === 'string') reply?.reject(new Error(`emacs: ${error}`));
            else reply?.resolve(value);
          }
        });
      });
    });
    try {
      await ready;
    } catch (e) {
      if (tmux) spawnSync('tmux', ['-L', tmux, 'kill-server']);
      proc.kill('SIGKILL');
      server.close();
      throw e;
    }
    return session;
  }

  /** Calls a driver (or any) Lisp function with JSON arguments; resolves with its JSON result. */
  call(fn: string, ...args: unknown[]): Promise<any> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`emacs: no answer to ${fn} within 15 s (the driver answers between waits of 20 ms); stderr: ${this.stderr.slice(-2000)}`)), 15_000);
      this.replies.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.socket!.write(`${JSON.stringify({ id, fn, args })}\n`);
    });
  }

  /** Keys typed into the terminal, in tmux's notation (`-l` for literal text first). */
  terminalKeys(...keys: string[]): void {
    const r = spawnSync('tmux', ['-L', this.tmux!, 'send-keys', '-t', 'emacs', ...keys], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tmux send-keys failed: ${r.stderr}`);
  }

  /** The terminal's rows, right-trimmed, and its cursor (0-based). */
  screen(): { rows: string[]; cursor: { x: number; y: number } } {
    const rows = spawnSync('tmux', ['-L', this.tmux!, 'capture-pane', '-p', '-t', 'emacs'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.trimEnd());
    const [x, y] = spawnSync('tmux', ['-L', this.tmux!, 'display-message', '-p', '-t', 'emacs', '#{cursor_x} #{cursor_y}'], { encoding: 'utf8' }).stdout.trim().split(' ').map(Number);
    return { rows, cursor: { x: x!, y: y! } };
  }

  /** Evaluates a Lisp form (a string). */
  eval(form: string): Promise<any> {
    return this.call('slipstream-test-eval', form);
  }

  /** Types keys in `kbd` notation ("TAB", "M-n", "C-b"). */
  keys(keys: string): Promise<void> {
    return this.call('slipstream-test-keys', keys);
  }

  /** Types text, one key per character ("\n" is RET). */
  text(text: string): Promise<void> {
    return this.call('slipstream-test-text', text);
  }

  async snapshot(): Promise<EmacsSnapshot> {
    // (Lisp's nil is null in the driver's JSON: an empty list, false or nothing)
    const s = await this.call('slipstream-test-snapshot');
    const suggestion = s.state.suggestion;
    return {
      ...s,
      mode: Boolean(s.mode),
      active: Boolean(s.active),
      overlays: s.overlays ?? [],
      state: { ...s.state, suggestion: suggestion && { ...suggestion, texts: suggestion.texts ?? [] } },
    };
  }

  /** A request to the client's server, through the client's connection (after its pending changes). */
  request(method: string, params: unknown = {}): Promise<any> {
    return this.call('slipstream-test-request', method, params);
  }

  /** Starts a new record of the client's inline completion requests, shown texts and suggestionFinished notifications. */
  record(): Promise<void> {
    return this.call('slipstream-test-record');
  }

  /** What the client did since record(), oldest first. */
  async recorded(): Promise<RecordEntry[]> {
    return (await this.call('slipstream-test-recorded')) ?? [];
  }

  /** Hands the client a notification as if its server had sent it (through jsonrpc.el's dispatcher). */
  serverNotification(method: string, params: unknown): Promise<void> {
    return this.call('slipstream-test-server-notification', method, params);
  }

  status(): Promise<any> {
    return this.request('slipstream/status');
  }

  /** Opens a file and resolves once the client opened it on the server. */
  async open(path: string): Promise<void> {
    const since = this.events.mark();
    await this.eval(`(find-file ${JSON.stringify(path)})`);
    await this.events.waitFor('attached', since, 20_000, 'the server starts and answers initialize in about a second');
  }

  async close(): Promise<void> {
    this.socket?.end(); // the driver's sentinel ends Emacs
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5_000);
    await this.exited;
    clearTimeout(timer);
    if (this.tmux) spawnSync('tmux', ['-L', this.tmux, 'kill-server']);
    this.socket?.destroy();
    this.server.close();
  }
}
