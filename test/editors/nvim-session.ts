/**
 * A real Neovim (`nvim --embed --headless`, no user config) driven over msgpack-RPC with the
 * official node client: editors/neovim on its runtimepath, set up to start this checkout's server.
 * The plugin's User events come back as RPC notifications; keys go in with nvim_input (as typed);
 * the screen is read with screenstring() after a redraw, the extmarks with nvim_buf_get_extmarks.
 * The accept-word and accept-line keys are bound as the plugin's README suggests, and what the
 * plugin sends through its LSP module (requests, notifications) and the replies it gets are
 * recorded in Neovim for `sent()`; `request()` asks the server through the plugin's client, and
 * `suggestionFinished()` hands the plugin's client a made-up slipstream/suggestionFinished. Options of the plugin's setup() beyond the shared session's
 * (filetypes, auto_trigger) come in `setup`; `typeAndSettle` and `typeAndSync` wait until typed
 * keys have had every effect they could have had (for tests that expect none).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { attach, type NeovimClient } from 'neovim';
import { repoRoot } from '../helpers/paths.js';
import { editorSettings, EVENTS, SCREEN, serverCommand, type EditorSession, type SessionOptions, type Snapshot } from './editor-session.js';
import { UserEvents } from './user-events.js';

// The node client's default logger replaces console.* process-wide; a quiet one of our own avoids that.
const quiet = { info() {}, warn() {}, error() {}, debug() {}, level: 'error' } as never;

export interface Extmark {
  row: number;
  col: number;
  virt_text?: [string, string][];
  virt_text_pos?: string;
  virt_lines?: [string, string][][];
}

export interface NeovimSnapshot extends Snapshot {
  marks: Extmark[];
}

/** A message the plugin sent through its LSP module (editors/neovim/lua/slipstream/lsp.lua), or the reply to a request. */
export interface SentMessage {
  kind: 'request' | 'notify' | 'reply';
  method: string;
  /** The params sent, or for a reply the result. */
  params: any;
}

/** The shared session options, and further options of the plugin's setup() (`filetypes`, `auto_trigger`), over the session's own. */
export interface NeovimSessionOptions extends SessionOptions {
  setup?: Record<string, unknown>;
}

/** The accept-word / accept-line keys the sessions bind (the README's suggestion; unbound by default). */
export const PARTIAL_KEYS = { accept_word: '<M-Right>', accept_line: '<M-C-Right>' };

export class NeovimSession implements EditorSession {
  readonly name = 'neovim';
  readonly events = new UserEvents('neovim', async () => `nvim stderr: ${this.stderr()}`);
  private readonly exited: Promise<void>;

  private constructor(
    private readonly proc: ChildProcess,
    readonly nvim: NeovimClient,
    private readonly stderr: () => string,
    /** The plugin's debounce_ms. */
    private readonly debounceMs: number,
  ) {
    this.exited = new Promise((resolve) => proc.on('exit', () => resolve()));
    // (not "…_event": the node client takes notifications named so for buffer events and drops them)
    nvim.on('notification', (method: string, args: unknown[]) => {
      if (method === 'slipstream-user-event') this.events.push(String(args[0]));
    });
  }

  static async start(opts: NeovimSessionOptions): Promise<NeovimSession> {
    const xdg = join(opts.home, 'xdg');
    mkdirSync(xdg, { recursive: true });
    const env = { ...process.env, XDG_CONFIG_HOME: xdg, XDG_DATA_HOME: xdg, XDG_STATE_HOME: xdg, XDG_CACHE_HOME: xdg };
    const proc = spawn('nvim', ['--embed', '--headless', '-u', 'NONE', '-i', 'NONE', '-n', '--cmd', `set rtp^=${join(repoRoot, 'editors', 'neovim')}`], { cwd: opts.home, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const nvim = attach({ proc, options: { logger: quiet } });
    const debounceMs = opts.debounceMs ?? 20;
    const session = new NeovimSession(proc, nvim, () => stderr, debounceMs);
    await nvim.lua(
      `local channel, events, columns, lines, setup = ...
      _G.slipstream_test_channel = channel
      vim.o.columns = columns
      vim.o.lines = lines
      vim.o.autoindent = false -- as in Vim without a vimrc: the scenarios type their own indentation
      vim.cmd('filetype on')
      for _, name in ipairs(events) do
        vim.api.nvim_create_autocmd('User', { pattern = name, callback = function() vim.rpcnotify(channel, 'slipstream-user-event', name) end })
      end
      -- record what the plugin sends and the replies it gets (the plugin calls lsp.request/notify by field)
      local lsp = require('slipstream.lsp')
      local request, notify = lsp.request, lsp.notify
      _G.slipstream_test_sent = {}
      local function record(kind, method, params)
        table.insert(_G.slipstream_test_sent, { kind = kind, method = method, params = params == nil and vim.NIL or params })
      end
      lsp.request = function(c, method, params, handler, bufnr)
        record('request', method, params)
        return request(c, method, params, function(err, result, ...)
          record('reply', method, result)
          return handler(err, result, ...)
        end, bufnr)
      end
      lsp.notify = function(c, method, params)
        record('notify', method, params)
        return notify(c, method, params)
      end
      require('slipstream').setup(setup)`,
      [await nvim.channelId, EVENTS, SCREEN.columns, SCREEN.lines, { cmd: serverCommand, settings: editorSettings(opts.settings), debounce_ms: debounceMs, keys: PARTIAL_KEYS, ...opts.setup }],
    );
    return session;
  }

  async ex(command: string): Promise<void> {
    await this.nvim.call('execute', [command]);
  }

  async append(lines: string[]): Promise<void> {
    await this.nvim.lua('vim.api.nvim_buf_set_lines(0, -1, -1, true, ...)', [lines]);
  }

  async type(keys: string): Promise<void> {
    await this.nvim.input(keys);
  }

  /**
   * Types `keys` (in Insert mode, changing the text) and resolves once they have had every effect
   * they could have had, with the events from the first key on (ending with the pseudo-event
   * 'test:settled'). A TextChangedI handler of the test's own, which runs after the plugin's
   * (defined later), waits for the first TextChangedI after which the cursor line reads `line`
   * and starts a timer of twice the plugin's debounce; when that ends, any debounce timer the
   * plugin started for the keys has ended before it (Neovim's timers end in order of their due
   * time) and any request it made has been sent and recorded, and its SlipstreamRequest event
   * is among those returned.
   */
  async typeAndSettle(keys: string, line: string): Promise<string[]> {
    await this.nvim.lua(
      `local line, ms = ...
      local group = vim.api.nvim_create_augroup('slipstream_test_settle', { clear = true })
      vim.api.nvim_create_autocmd('TextChangedI', { group = group, callback = function()
        if vim.api.nvim_get_current_line() ~= line then return end
        vim.api.nvim_del_augroup_by_id(group)
        vim.fn.timer_start(ms, function() vim.rpcnotify(_G.slipstream_test_channel, 'slipstream-user-event', 'test:settled') end)
      end })`,
      [line, 2 * this.debounceMs],
    );
    const since = this.events.mark();
    await this.type(keys);
    await this.events.waitFor('test:settled', since, 10_000, `the line reads ${JSON.stringify(line)} after the keys, then a ${2 * this.debounceMs} ms timer`);
    return this.events.since(since);
  }

  /**
   * Types `keys` and resolves once Neovim has taken them and run what their mappings do (not the
   * plugin's debounced work: typeAndSettle), with the events from the first key on (ending with
   * the pseudo-event 'test:synced'): a <Cmd> typed after them reports back, and keys a mapping
   * feeds (its fall-through) go in before it.
   */
  async typeAndSync(keys: string): Promise<string[]> {
    const since = this.events.mark();
    await this.type(`${keys}<Cmd>lua vim.rpcnotify(_G.slipstream_test_channel, 'slipstream-user-event', 'test:synced')<CR>`);
    await this.events.waitFor('test:synced', since, 5_000, 'the keys and the <Cmd> after them are taken at once');
    return this.events.since(since);
  }

  /** What an Ex command prints (`execute()`). */
  async output(command: string): Promise<string> {
    return (await this.nvim.call('execute', [command])) as string;
  }

  async snapshot(): Promise<NeovimSnapshot> {
    return (await this.nvim.lua(
      `local ns = vim.api.nvim_get_namespaces()['slipstream']
      local cursor = vim.api.nvim_win_get_cursor(0)
      vim.cmd('redraw')
      local screen = {}
      for row = vim.fn.winline(), math.min(vim.fn.winline() + 11, vim.o.lines - 2) do
        local cells = {}
        for col = 1, vim.o.columns do cells[#cells + 1] = vim.fn.screenstring(row, col) end
        screen[#screen + 1] = (table.concat(cells):gsub('%s+$', ''))
      end
      local marks = {}
      for _, m in ipairs(ns and vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true }) or {}) do
        local d = m[4]
        marks[#marks + 1] = { row = m[2], col = m[3], virt_text = d.virt_text, virt_text_pos = d.virt_text_pos, virt_lines = d.virt_lines }
      end
      return {
        lines = vim.api.nvim_buf_get_lines(0, 0, -1, true), row = cursor[1] - 1, col = cursor[2],
        eol = vim.bo.eol, fileformat = vim.bo.fileformat, tabstop = vim.bo.tabstop,
        mode = vim.api.nvim_get_mode().mode, screen = screen, marks = marks,
      }`,
      [],
    )) as NeovimSnapshot;
  }

  async pluginState(): Promise<any> {
    return this.nvim.lua("return require('slipstream').state()", []);
  }

  /** What the plugin sent through its LSP module so far (and the replies), in order; `method`: only those. */
  async sent(method?: string): Promise<SentMessage[]> {
    const all = (await this.nvim.lua('return _G.slipstream_test_sent', [])) as SentMessage[];
    return method ? all.filter((m) => m.method === method) : all;
  }

  /** A request to the plugin's server through its client (the plugin's LSP module), answered within 5 s: its result. */
  async request(method: string, params: unknown = {}): Promise<any> {
    const r = (await this.nvim.lua(
      `local method, params = ...
      if type(params) == 'table' and next(params) == nil then params = vim.empty_dict() end -- {} rather than []
      local c = vim.lsp.get_client_by_id(require('slipstream').state().client_id)
      if not c then return { error = 'no client' } end
      local response, reason = require('slipstream.lsp').request_sync(c, method, params, 5000)
      if not response then return { error = tostring(reason) } end
      return { result = response.result, error = response.err and response.err.message }`,
      [method, params as never],
    )) as { result?: unknown; error?: string };
    if (r.error) throw new Error(`neovim: ${method}: ${r.error}`);
    return r.result;
  }

  /**
   * Calls the handler the plugin gave its client for slipstream/suggestionFinished with `params`
   * (null: none), as Neovim does when the server sends one; resolves once it returned (anything
   * the plugin sends meanwhile is recorded by then).
   */
  async suggestionFinished(params: unknown): Promise<void> {
    await this.nvim.lua(
      `local params = ...
      local method = 'slipstream/suggestionFinished'
      local c = vim.lsp.get_client_by_id(require('slipstream').state().client_id)
      c.handlers[method](nil, params, { method = method, client_id = c.id })`,
      [params as never],
    );
  }

  async status(): Promise<any> {
    return this.nvim.lua("local s, err = require('slipstream').status(5000) return s or { error = err }", []);
  }

  async close(): Promise<void> {
    this.nvim.command('qa!').catch(() => {});
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5_000); // :qa! ends it in milliseconds
    await this.exited;
    clearTimeout(timer);
  }
}
