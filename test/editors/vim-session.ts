/**
 * A real Vim (`vim -N -u NONE --not-a-term`, its screen written to a pipe nobody reads) with
 * editors/vim loaded by test/editors/vim-driver.vim, which connects back to this test over a Vim
 * JSON channel: the test sends ["call", ...] commands (type keys with feedkeys(), read the buffer
 * and the screen with screenstring()), the plugin's User events come back as messages. With
 * `channelLog`, Vim logs its channels there (ch_logfile()) and `sent()` reads back the LSP
 * messages the plugin sent to its server; with `globals`, the driver sets those g: variables
 * before the plugin loads, as a vimrc would. `request()` asks the server through the plugin's
 * connection, and `suggestionFinished()` hands the plugin a made-up slipstream/suggestionFinished.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.js';
import { editorSettings, EVENTS, onJsonLines, SCREEN, serverCommand, type EditorSession, type SessionOptions, type Snapshot } from './editor-session.js';
import { UserEvents } from './user-events.js';

export class VimSession implements EditorSession {
  readonly name = 'vim';
  readonly events = new UserEvents('vim', async () => {
    const messages = await this.call('execute', ['messages']).catch(() => '');
    const log = await this.call('slipstream#server#LogLines').catch(() => []);
    return `messages: ${messages}; server log: ${JSON.stringify(log)}`;
  });
  private replies = new Map<number, (value: unknown) => void>();
  private nextId = -1;
  private socket: Socket | undefined;
  private readonly exited: Promise<void>;
  private output = '';

  private constructor(
    private readonly proc: ChildProcess,
    private readonly server: Server,
    private readonly channelLog: string | undefined,
  ) {
    this.exited = new Promise((resolve) => proc.on('exit', () => resolve()));
    // Vim's screen output: kept only for error messages when something times out
    proc.stdout!.on('data', (d: Buffer) => (this.output = (this.output + d.toString('utf8')).slice(-4000)));
  }

  /**
   * `channelLog`: a file for Vim's channel log (ch_logfile()), which `sent()` reads. `globals`:
   * g: variables to set before the plugin loads (`{ slipstream_auto_trigger: false }`;
   * `slipstream_keys` is added to the driver's partial-accept keys).
   */
  static async start(opts: SessionOptions & { channelLog?: string; globals?: Record<string, unknown> }): Promise<VimSession> {
    const config = join(opts.home, 'vim-driver.json');
    writeFileSync(config, JSON.stringify({ plugin: join(repoRoot, 'editors', 'vim'), command: serverCommand, settings: editorSettings(opts.settings), debounce_ms: opts.debounceMs ?? 20, events: EVENTS, channel_log: opts.channelLog ?? '', globals: opts.globals ?? {} }));
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const env = { ...process.env, SLIPSTREAM_TEST_PORT: String(port), SLIPSTREAM_TEST_CONFIG: config, COLUMNS: String(SCREEN.columns), LINES: String(SCREEN.lines), TERM: 'xterm' };
    const proc = spawn('vim', ['-N', '-u', 'NONE', '-i', 'NONE', '-n', '--not-a-term', '-S', join(repoRoot, 'test', 'editors', 'vim-driver.vim')], { cwd: opts.home, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const session = new VimSession(proc, server, opts.channelLog);
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`vim did not connect back within 10 s (it starts in ~50 ms); its screen ends with: ${JSON.stringify(session.output.slice(-500))}`)), 10_000);
      server.once('connection', (socket: Socket) => {
        session.socket = socket;
        onJsonLines(socket, ([head, value]) => {
          if (head === 'ready') {
            clearTimeout(timer);
            resolve();
          } else if (head === 'event') {
            session.events.push(String(value));
          } else if (typeof head === 'number') {
            session.replies.get(head)?.(value);
            session.replies.delete(head);
          }
        });
      });
    });
    await ready;
    return session;
  }

  /** Calls a Vim function through the channel and resolves with its result. */
  call(fn: string, args: unknown[] = []): Promise<any> {
    const id = this.nextId--;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`vim: no answer to ${fn}() within 10 s (Vim answers channel commands between keys)`)), 10_000);
      this.replies.set(id, (value) => {
        clearTimeout(timer);
        if (value === 'ERROR') reject(new Error(`vim: ${fn}(${JSON.stringify(args)}) failed (v:errmsg has the reason)`));
        else resolve(value);
      });
      this.socket!.write(`${JSON.stringify(['call', fn, args, id])}\n`);
    });
  }

  async ex(command: string): Promise<void> {
    await this.call('execute', [command]);
  }

  async append(lines: string[]): Promise<void> {
    await this.call('g:TestAppend', [lines]);
  }

  async type(keys: string): Promise<void> {
    await this.call('g:TestType', [keys]);
  }

  async snapshot(): Promise<Snapshot> {
    const s = await this.call('g:TestSnapshot');
    return { ...s, eol: Boolean(s.eol) };
  }

  /**
   * The LSP messages with `method` the plugin has sent its server so far, in order, from the
   * channel log (the session must start with `channelLog`). Vim writes a message to the log as it
   * sends it, so one sent before an event the test awaited is there.
   */
  sent(method: string): any[] {
    if (!this.channelLog) throw new Error('vim: sent() needs a session started with channelLog');
    // a SEND entry: "SEND on 0(in): 'Content-Length: ...", header lines, then the JSON body and a closing quote
    const lines = readFileSync(this.channelLog, 'utf8').split('\n');
    const out: any[] = [];
    for (let i = 0; i < lines.length; i++) {
      if (!/ SEND on \d+\(in\): 'Content-Length:/.test(lines[i]!)) continue;
      const body = lines.slice(i + 1, i + 4).find((l) => l.startsWith('{'));
      if (!body?.endsWith("}'")) continue;
      const message = JSON.parse(body.slice(0, -1));
      if (message.method === method) out.push(message);
    }
    return out;
  }

  /** A request to the plugin's server through its connection (server.vim), answered within 5 s: its result. */
  async request(method: string, params: unknown = {}): Promise<any> {
    const response = await this.call('slipstream#server#Evaluate', [method, params, 5000]);
    if (!response || typeof response !== 'object' || Object.keys(response).length === 0) throw new Error(`vim: no answer to ${method} within 5 s`);
    if (response.error) throw new Error(`vim: ${method}: ${JSON.stringify(response.error)}`);
    return response.result;
  }

  /**
   * Calls the plugin's slipstream/suggestionFinished handler with `params` (null: none), as its
   * connection does when the server sends one; resolves once it returned (an error in it rejects).
   */
  async suggestionFinished(params: unknown): Promise<void> {
    const json = JSON.stringify(params).replace(/'/g, "''");
    await this.ex(`call slipstream#OnSuggestionFinished(json_decode('${json}'))`);
  }

  async pluginState(): Promise<any> {
    return this.call('slipstream#State');
  }

  async status(): Promise<any> {
    return this.call('slipstream#Status');
  }

  async close(): Promise<void> {
    this.socket?.write(`${JSON.stringify(['ex', 'qa!'])}\n`);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5_000); // :qa! ends it in milliseconds
    await this.exited;
    clearTimeout(timer);
    this.socket?.destroy();
    this.server.close();
  }
}
