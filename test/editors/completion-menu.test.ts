/**
 * The completion menu in editors with no Slipstream plugin. First a real Neovim's built-in LSP client
 * (`vim.lsp.start_client`, no capabilities of ours, so it says nothing of inline completions)
 * starts the real server with the shipped model, and its stock 'omnifunc' (`vim.lsp.omnifunc`,
 * Ctrl-X Ctrl-O) asks `textDocument/completion`. At two spots (a multi-line suggestion at the end
 * of a line, a word typed half), the menu's items must be the server's suggestion there (asked
 * through the same client with `slipstream/complete` on the same text) as menu-items.ts lays it
 * out: the word before the cursor and the first line, then, for a multi-line suggestion, the
 * whole. Accepting the first item (Ctrl-Y) must leave that text in the buffer. Then a real Emacs's
 * eglot (Debian's elpa-eglot 1.9, eglot-menu-driver.el) at the same spots: its completion at point
 * must list the same items, and accepting the last (the whole suggestion where it has several
 * lines) must insert it as it is. Each part skips with a reason when its editor is not installed;
 * CI installs both.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { attach, type NeovimClient } from 'neovim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/paths.js';
import { editorSettings, findEditor, serverCommand } from './editor-session.js';
import { findEmacs } from './emacs-session.js';
import { scratchDir, scratchFile } from './scenarios.js';

const tool = findEditor('nvim', (v) => (/NVIM v0\.[0-6]\./.test(v) ? 'is older than 0.7, whose LSP client the test drives' : undefined));
const quiet = { info() {}, warn() {}, error() {}, debug() {}, level: 'error' } as never;

/** Polls `probe` every 50 ms until it returns a value other than undefined. */
async function until<T>(probe: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The texts of the menu items for the reference suggestion (slipstream/complete's item: its text
 * and the range it replaces) after `word`: the first line, then the whole for a multi-line one,
 * both without the rest of the line that the suggestion ends with (it stays where it is).
 */
function expectedItems(word: string, item: { insertText: string; start: number; end: number }): string[] {
  const rest = item.insertText.slice(0, item.insertText.length - (item.end - item.start));
  const [firstLine, ...more] = rest.split('\n');
  const expected = [...(firstLine!.trim() !== '' ? [word + firstLine] : []), ...(more.length > 0 ? [word + rest] : [])];
  expect(expected.length, `a suggestion to offer: ${JSON.stringify(item.insertText)}`).toBeGreaterThan(0);
  return expected;
}

const SPOTS = [
  { name: 'a multi-line suggestion at the end of a line', keys: 'Go  if (', folder: 'end-of-line' },
  { name: 'a word typed half', keys: 'Go  const n = values.len', folder: 'half-word' },
];

describe.skipIf('skip' in tool)(`completion menu in Neovim's own LSP client (${'skip' in tool ? tool.skip : tool.version})`, () => {
  let proc: ChildProcess;
  let nvim: NeovimClient;
  let dir: string;
  let stderr = '';

  beforeAll(async () => {
    dir = scratchDir('nvim-menu');
    const xdg = join(dir, 'xdg');
    mkdirSync(xdg, { recursive: true });
    const env = { ...process.env, XDG_CONFIG_HOME: xdg, XDG_DATA_HOME: xdg, XDG_STATE_HOME: xdg, XDG_CACHE_HOME: xdg };
    proc = spawn('nvim', ['--embed', '--headless', '-u', 'NONE', '-i', 'NONE', '-n'], { cwd: dir, env, stdio: ['pipe', 'pipe', 'pipe'] });
    proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    nvim = attach({ proc, options: { logger: quiet } });
    await nvim.command('set columns=200 lines=40 noautoindent');
    await nvim.lua("local channel = ... vim.api.nvim_create_autocmd('CompleteChanged', { callback = function() vim.rpcnotify(channel, 'slipstream-test-menu') end })", [await nvim.channelId]);
  });
  afterAll(async () => {
    await nvim?.lua('vim.lsp.stop_client(vim.lsp.get_active_clients(), true)').catch(() => {});
    proc?.kill();
  });

  it.each(SPOTS)('offers the server suggestion at $name and inserts the first item', async ({ keys, folder }) => {
    // a file of its own: a buffer the last spot's client had open keeps that client's change tracking
    mkdirSync(join(dir, folder));
    await nvim.command(`enew! | edit ${scratchFile(join(dir, folder), 'lf')}`);
    await nvim.lua("vim.api.nvim_buf_set_lines(0, -1, -1, true, { 'export function median(values: number[]): number {' })");
    // a user's config: the stock client, started for this buffer, and its omnifunc
    const started = (await nvim.lua(
      `local cmd, settings = ...
      local id = vim.lsp.start_client({ name = 'slipstream', cmd = cmd, root_dir = vim.fn.getcwd(), init_options = settings })
      vim.lsp.buf_attach_client(0, id)
      vim.bo.omnifunc = 'v:lua.vim.lsp.omnifunc'
      return id`,
      [serverCommand, editorSettings({ completion: { debounceMs: 0 } })],
    )) as number;
    await until(
      async () => ((await nvim.lua('local c = vim.lsp.get_client_by_id(...) return c ~= nil and c.server_capabilities ~= nil and c.server_capabilities.completionProvider ~= nil', [started])) ? true : undefined),
      20_000,
      `the server to start and advertise completionProvider (nvim stderr: ${stderr})`,
    );
    await nvim.input(keys);
    const typed = keys.slice(2); // after 'Go'
    await until(async () => ((await nvim.call('getline', ['.'])) === typed ? true : undefined), 5_000, `the line to read ${JSON.stringify(typed)}`);

    // what the server suggests at this cursor, through the same client
    const reference = (await nvim.lua(
      `local c = vim.lsp.get_client_by_id(...)
      local lines = vim.api.nvim_buf_get_lines(0, 0, -1, true)
      local text = table.concat(lines, '\\n') .. '\\n'
      local row, col = unpack(vim.api.nvim_win_get_cursor(0))
      local before = table.concat(vim.list_slice(lines, 1, row - 1), '\\n') .. '\\n' .. lines[row]:sub(1, col)
      local r = c.request_sync('slipstream/complete', { text = text, offset = vim.str_utfindex(before), languageId = 'typescript', uri = 'menu-test:' .. row .. ':' .. col }, 20000, 0)
      return r.result.items`,
      [started],
    )) as { insertText: string; start: number; end: number }[];
    expect(reference, 'slipstream/complete answers one suggestion').toHaveLength(1);
    const word = /[\p{L}\p{N}_]*$/u.exec(typed)![0];
    const expected = expectedItems(word, reference[0]!);

    // the menu opens when the answer comes (CompleteChanged); polling Neovim in between can make the
    // omnifunc's answer find it out of Insert mode and drop it, so the test waits without asking
    const shown = new Promise<void>((resolve) => nvim.once('notification', (method: string) => method === 'slipstream-test-menu' && resolve()));
    await nvim.input('<C-x><C-o>');
    await Promise.race([shown, new Promise((_, reject) => setTimeout(() => reject(new Error(`no completion menu within 20 s (nvim stderr: ${stderr})`)), 20_000))]);
    const info = (await nvim.call('complete_info', [['items', 'selected']])) as { items: { word: string; menu: string }[]; selected: number };
    expect(info.items.map((i) => i.word)).toEqual(expected);
    expect(info.selected).toBe(0);
    expect(info.items[0]!.menu).toBe('Slipstream');
    // the first item is inserted as the menu opens (completeopt without noinsert); Ctrl-Y keeps it
    await nvim.input('<C-y>');
    const head = typed.slice(0, typed.length - word.length);
    await until(async () => ((await nvim.call('getline', ['.'])) === head + expected[0] ? true : undefined), 5_000, `the line to read ${JSON.stringify(head + expected[0])}`);
    await nvim.input('<Esc>');
    await nvim.lua('vim.lsp.stop_client(...)', [started]);
  });
});

/** Debian's elpa-eglot, which the driver activates; or why the eglot test cannot run. */
function findEglot(): { version: string } | { skip: string } {
  const emacs = findEmacs();
  if ('skip' in emacs) return emacs;
  const elpa = '/usr/share/emacs/site-lisp/elpa';
  const dir = existsSync(elpa) ? readdirSync(elpa).find((d) => d.startsWith('eglot-')) : undefined;
  if (!dir) {
    const reason = 'eglot is not installed (apt-get install elpa-eglot; .ci/run installs it)';
    if (process.env.CI) throw new Error(`CI must run the eglot test, but ${reason}`);
    return { skip: reason };
  }
  return { version: `${emacs.version}, ${dir}` };
}
const eglot = findEglot();

describe.skipIf('skip' in eglot)(`completion at point in Emacs's eglot (${'skip' in eglot ? eglot.skip : eglot.version})`, () => {
  it.each(SPOTS)('offers the server suggestion at $name and applies the last item', async ({ keys, folder }) => {
    const dir = scratchDir('eglot-menu');
    mkdirSync(join(dir, folder));
    const file = scratchFile(join(dir, folder), 'lf');
    const typed = keys.slice(2); // after 'Go': a new last line
    const run = spawnSync('emacs', ['-Q', '--batch', '-l', join(repoRoot, 'test', 'editors', 'eglot-menu-driver.el')], {
      encoding: 'utf8',
      timeout: 60_000,
      env: {
        ...process.env,
        HOME: dir,
        SLIPSTREAM_MENU_CMD: JSON.stringify(serverCommand),
        SLIPSTREAM_MENU_SETTINGS: JSON.stringify(editorSettings({ completion: { debounceMs: 0 } })),
        SLIPSTREAM_MENU_FILE: file,
        SLIPSTREAM_MENU_TYPED: `export function median(values: number[]): number {\n${typed}`,
        SLIPSTREAM_MENU_CHOOSE: 'last',
      },
    });
    expect(run.status, `emacs exited ${run.status} (${run.signal ?? 'no signal'}); stderr:\n${run.stderr}`).toBe(0);
    const out = JSON.parse(run.stdout.trim().split('\n').pop()!) as {
      reference: { insertText: string; start: number; end: number };
      prefix: string;
      candidates: { label: string; newText: string; detail: string }[];
      before: string;
      offset: number;
      after: string;
    };
    const word = /[\p{L}\p{N}_]*$/u.exec(typed)![0];
    expect(out.prefix).toBe(word);
    const expected = expectedItems(word, out.reference);
    expect(out.candidates.map((c) => c.newText)).toEqual(expected);
    expect(out.candidates.every((c) => c.detail.startsWith('Slipstream'))).toBe(true);
    // the last item: the whole suggestion where it has several lines, inserted as it is
    const chosen = expected[expected.length - 1]!;
    expect(out.after).toBe(out.before.slice(0, out.offset - word.length) + chosen + out.before.slice(out.offset));
  });
});
