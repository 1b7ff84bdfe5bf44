/**
 * The server in front of a real llama.cpp llama-server on loopback, through the LSP surface (the
 * in-process server over a stream pair, and once a `slipstream serve --stdio` process), with
 * engine.backend "remote", serving the shipped model converted to GGUF: completions arrive and
 * pass the same filters as the local engine's, equal to them where the two greedy decodings
 * agree; the slot's KV is reused across keystrokes; an LSP cancellation reaches llama-server (it
 * stops generating); a server killed mid-stream is a clear error and the server recovers when it
 * is back; the OpenAI-compatible endpoint and prompts sent as text give the same completions, and
 * so does llama-server's n-gram speculative decoding; the API key comes from the environment and
 * shows nowhere. Skips (one line) until llama-server is built.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CancellationTokenSource } from 'vscode-languageserver-protocol/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LspClient } from '../../bench/lib/lsp-client.js';
import type { RequestTrace, StatusResult, TracesResult } from '../../server/src/protocol.js';
import { createPair, type LspPair } from '../helpers/lsp-pair.js';
import { GgufCache, LlamaServer, llamaServerMissing, shippedModel, type Slot } from './llama-server.js';

const missing = llamaServerMissing();
if (missing) console.warn(`remote engine ${missing}`);

interface Case {
  uri: string;
  languageId: string;
  /** The document with the cursor marked ‸. */
  code: string;
}

const CASES: Case[] = [
  { uri: 'file:///clamp.ts', languageId: 'typescript', code: 'export function clamp(x: number, lo: number, hi: number): number {\n  ‸\n}\n' },
  { uri: 'file:///log.ts', languageId: 'typescript', code: 'const users = await db.query("select * from users");\nfor (const user of users) {\n  console.log(‸);\n}\n' },
  { uri: 'file:///fib.py', languageId: 'python', code: 'def fibonacci(n):\n    if n < 2:\n        return n\n    ‸\n' },
  { uri: 'file:///stack.py', languageId: 'python', code: 'class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, item):\n        ‸\n' },
  { uri: 'file:///sum.c', languageId: 'c', code: '#include <stdio.h>\n\nint main(void) {\n    int total = 0;\n    for (int i = 0; i < 10; i++) {\n        total += ‸\n    }\n}\n' },
];
/** A cursor where the model writes one long line (a growing list): generations that run to maxTokens. */
const LONG: Case = { uri: 'file:///words.ts', languageId: 'typescript', code: 'const words = ["‸' };

function position(code: string): { line: number; character: number } {
  const before = code.slice(0, code.indexOf('‸'));
  return { line: before.split('\n').length - 1, character: before.length - before.lastIndexOf('\n') - 1 };
}

const pairs: LspPair[] = [];
afterEach(async () => {
  for (const p of pairs.splice(0)) {
    await p.client.sendRequest('shutdown').catch(() => {});
    p.dispose();
  }
});

/**
 * An in-process server (its own engine host) initialized with these settings, debounce off and
 * whole suggestions (minTokenProbability and timeBudgetMs 0): these tests compare completions and
 * exchanges, and long generations; the cuts before unsure tokens are remote-logprobs.test.ts's, the
 * early answers at the time budget time-budget-native.test.ts's.
 */
async function serverPair(engine: Record<string, unknown>, completion: Record<string, unknown> = {}, more: Record<string, unknown> = {}): Promise<LspPair> {
  const pair = createPair({});
  pairs.push(pair);
  await pair.initialize({}, { engine: { model: shippedModel, ...engine }, completion: { debounceMs: 0, minTokenProbability: 0, timeBudgetMs: 0, ...completion }, ...more });
  return pair;
}

async function complete(pair: LspPair, c: Case, token?: CancellationTokenSource): Promise<string | null> {
  await pair.open(c.uri, c.code.replace('‸', ''), c.languageId);
  const list = await pair.inline(c.uri, position(c.code), {}, token);
  await pair.client.sendNotification('textDocument/didClose', { textDocument: { uri: c.uri } });
  const item = list?.items[0];
  return item ? item.insertText.toString() : null;
}

const status = (pair: LspPair): Promise<StatusResult> => pair.client.sendRequest('slipstream/status') as Promise<StatusResult>;
async function lastTrace(pair: LspPair): Promise<RequestTrace> {
  const r = (await pair.client.sendRequest('slipstream/traces', {})) as TracesResult;
  return r.traces[r.traces.length - 1]!;
}

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, ms = 20_000, every = 20): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

const processing = (slots: Slot[]): Slot | undefined => slots.find((s) => s.is_processing);

describe.skipIf(missing !== null)('the server in front of llama-server', () => {
  const ggufs = new GgufCache();
  let llama: LlamaServer;
  const remote = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ backend: 'remote', remote: { url: llama.url, api: 'llama-server', ...extra } });

  beforeAll(async () => {
    llama = await LlamaServer.start(ggufs.get(shippedModel), { parallel: 2, ctx: 4096 });
  });
  afterAll(async () => {
    await llama?.stop();
    ggufs.dispose();
  });

  it('answers inline completions that pass the same filters as the local engine, equal to its own where the decodings agree', async () => {
    // token healing off: a remote engine cannot constrain decoding (docs/team.md), so only unhealed
    // local prompts are the same prompts
    // and whole suggestions on both sides (minTokenProbability 0): the cuts are remote-logprobs.test.ts's
    const local = await serverPair({ backend: 'cpu' }, { tokenHealing: false });
    const viaServer = await serverPair(remote());
    const rows: string[] = [];
    let same = 0;
    for (const c of CASES) {
      const ours = await complete(local, c);
      const theirs = await complete(viaServer, c);
      rows.push(`${c.uri}: local ${JSON.stringify(ours)} remote ${JSON.stringify(theirs)}`);
      expect(theirs, c.uri).not.toBeNull();
      // a mid-line cursor gets one line, as from the local engine
      if (c.code.split('‸')[1]!.split('\n')[0] !== '') expect(theirs).not.toContain('\n');
      if (theirs === ours) same++;
      const t = await lastTrace(viaServer);
      expect(t.outcome).toBe('shown');
      expect(t.remote).toMatchObject({ endpoint: `${llama.url}/completion`, api: 'llama-server', status: 200 });
      expect(['completed', 'aborted']).toContain(t.remote!.ended); // aborted: stopped early at the end of the line or scope
      expect(t.remote!.ttfbMs).toBeGreaterThan(0);
      expect(t.remote!.firstTokenMs).toBeGreaterThanOrEqual(t.remote!.ttfbMs!);
      expect(t.remote!.streamMs).toBeGreaterThanOrEqual(0);
      expect(t.remote!.tokens).toBe(t.generatedTokens);
      expect(t.stages.prefill).toBeGreaterThan(0);
    }
    console.log(`completions, local engine vs llama-server:\n  ${rows.join('\n  ')}\nlast trace: ${JSON.stringify(await lastTrace(viaServer))}`);
    expect(same).toBeGreaterThanOrEqual(CASES.length - 1);
    const st = await status(viaServer);
    expect(st.engine).toMatchObject({ state: 'ready', backend: 'remote', error: null, model: { dir: shippedModel, architecture: 'llama', fim: true } });
    expect(st.engine.remote).toMatchObject({ url: `${llama.url}/`, api: 'llama-server', requests: CASES.length, failures: 0, retryInMs: 0 });
    expect(st.requests.shown).toBe(CASES.length);
  });

  it('works the same from a `slipstream serve --stdio` process', async () => {
    const client = new LspClient(['--model', shippedModel]);
    try {
      await client.initialize({ engine: { backend: 'remote', remote: { url: llama.url, api: 'llama-server' } }, completion: { debounceMs: 0 } });
      const c = CASES[4]!;
      await client.open(c.uri, c.languageId, c.code.replace('‸', ''));
      const list = await client.inlineCompletion(c.code.indexOf('‸'));
      expect(list?.items[0]?.insertText.toString().length).toBeGreaterThan(0);
      const st = await client.status();
      expect(st.engine).toMatchObject({ backend: 'remote', state: 'ready', remote: { api: 'llama-server', requests: 1, failures: 0 } });
    } finally {
      await client.close();
    }
  });

  it("reuses the slot's KV across keystrokes: each next prompt is mostly served from llama-server's cache", async () => {
    const pair = await serverPair(remote());
    const c = CASES[0]!;
    let text = c.code.replace('‸', '');
    let offset = c.code.indexOf('‸');
    await pair.open(c.uri, text, c.languageId);
    const cached: string[] = [];
    let version = 1;
    for (const ch of 'if (x < lo)') {
      text = text.slice(0, offset) + ch + text.slice(offset);
      const pos = position(text.slice(0, offset) + '‸');
      await pair.change(c.uri, ++version, [{ range: { start: pos, end: pos }, text: ch }]);
      offset++;
      await pair.inline(c.uri, position(text.slice(0, offset) + '‸'), { textDocument: { uri: c.uri, version } });
      const t = await lastTrace(pair);
      if (t.outcome === 'cached') continue; // typed through the last suggestion: no request
      if (t.remote?.ended === 'failed') expect.fail(`keystroke ${version}: the request failed: ${JSON.stringify((await status(pair)).engine.error)}`);
      // reported on the first event, so also for generations stopped early at the end of the line
      expect(t.reusedTokens).toBe(t.remote!.cachedTokens);
      cached.push(`${t.remote!.cachedTokens}/${t.promptTokens}`);
      if (cached.length > 1) expect(t.promptTokens! - t.remote!.cachedTokens!).toBeLessThanOrEqual(4);
    }
    console.log(`prompt tokens llama-server served from the slot's cache, per keystroke: ${cached.join(' ')}`);
    // the SPM prompt only grows at the cursor: all but the last few tokens are reused
    expect(cached.length).toBeGreaterThan(4);
  });

  it('cancellation reaches llama-server: the request is aborted and the slot stops generating', async () => {
    const pair = await serverPair(remote(), { maxTokens: 900, contextTokens: 64 });
    const token = new CancellationTokenSource();
    const pending = complete(pair, LONG, token).then(
      () => 'answered',
      (err: { code?: number }) => `error ${err.code}`,
    );
    const busy = await until('a slot generating', async () => {
      const s = processing(await llama.slots());
      return s && s.next_token![0]!.n_decoded >= 5 ? s : null;
    });
    token.cancel();
    expect(await pending).toBe('error -32800'); // RequestCancelled
    const task = busy.id_task!;
    // llama-server saw the connection close, cancelled the task and freed the slot mid-generation
    await until('llama-server to cancel the task', async () => llama.log().includes(`cancel task, id_task = ${task}`), 5000);
    await until('the slot to stop', async () => !(await llama.slots()).find((x) => x.id === busy.id)?.is_processing, 5000);
    expect(llama.log()).toMatch(new RegExp(`release: id +${busy.id} \\| task ${task} \\| stop processing`));
    console.log(`cancelled after at least ${busy.next_token![0]!.n_decoded} of 900 tokens`);
    const t = await lastTrace(pair);
    expect(t.outcome).toBe('cancelled');
    expect(t.remote?.ended).toBe('aborted');
  });

  it('a server killed mid-stream is a clear error in the answer, trace, status and log; the server keeps serving and recovers', async () => {
    const own = await LlamaServer.start(ggufs.get(shippedModel), { parallel: 1, ctx: 2048 });
    try {
      const pair = await serverPair({ backend: 'remote', remote: { url: own.url, api: 'llama-server' } }, { maxTokens: 900, contextTokens: 64 });
      const pending = complete(pair, LONG);
      await until('the slot to generate', async () => processing(await own.slots()));
      await own.kill('SIGKILL');
      expect(await pending).toBeNull(); // an empty answer, not an LSP error
      const t = await lastTrace(pair);
      expect(t.outcome).toBe('error');
      expect(t.error).toMatch(/^ENGINE_REMOTE_DISCONNECTED: http:\/\/127\.0\.0\.1:\d+\/completion closed the connection mid-stream/);
      expect(t.remote?.ended).toBe('failed');
      const st = await status(pair);
      expect(st.engine.state).toBe('error');
      expect(st.engine.error?.code).toBe('ENGINE_REMOTE_DISCONNECTED');
      expect(st.engine.remote?.failures).toBe(1);
      expect(pair.logs.some((l) => l.type === 1 && l.message.includes('[ENGINE_REMOTE_DISCONNECTED]'))).toBe(true);

      // while it is down: answers stay empty, the error says why, the LSP server answers everything else
      expect(await complete(pair, CASES[0]!)).toBeNull();
      expect((await lastTrace(pair)).error).toMatch(/^ENGINE_REMOTE_(UNREACHABLE|DISCONNECTED): /);
      expect((await status(pair)).engine.state).toBe('error');

      await own.restart(); // same port
      const text = await until('a completion after the restart', async () => complete(pair, CASES[0]!), 30_000, 250);
      expect(text.length).toBeGreaterThan(0);
      const back = await status(pair);
      expect(back.engine).toMatchObject({ state: 'ready', error: null });
      expect(back.engine.remote?.retryInMs).toBe(0);
      expect(pair.logs.some((l) => /answers again after \d+ failed attempt/.test(l.message))).toBe(true);
    } finally {
      await own.stop();
    }
  });

  it('the OpenAI-compatible endpoint of the same server gives the same completions, and prompts sent as text too', async () => {
    const ids = await serverPair(remote());
    const openai = await serverPair(remote({ api: 'openai' }));
    const openaiText = await serverPair(remote({ api: 'openai', prompt: 'text' }));
    const llamaText = await serverPair(remote({ prompt: 'text' }));
    for (const c of CASES) {
      const expected = await complete(ids, c);
      expect(await complete(openai, c), c.uri).toBe(expected);
      const t = await lastTrace(openai);
      expect(t.remote).toMatchObject({ endpoint: `${llama.url}/v1/completions`, api: 'openai', status: 200 });
      expect(t.generatedTokens).toBeGreaterThan(0);
      expect(await complete(openaiText, c), c.uri).toBe(expected);
      expect(await complete(llamaText, c), c.uri).toBe(expected);
    }
    expect((await status(openai)).engine.remote).toMatchObject({ api: 'openai', failures: 0 });
  });

  it("gives the same completions with llama-server's n-gram speculative decoding on, and its drafts are accepted", async () => {
    const spec = await LlamaServer.start(ggufs.get(shippedModel), {
      parallel: 1,
      ctx: 2048,
      extraArgs: ['--spec-type', 'ngram-simple', '--spec-ngram-simple-size-n', '3', '--spec-ngram-simple-size-m', '8', '--spec-draft-n-max', '8'],
    });
    try {
      // llama.cpp's batched verification is slow on this CPU: a few short completions
      const plain = await serverPair(remote(), { maxTokens: 48 });
      const speculative = await serverPair({ backend: 'remote', remote: { url: spec.url, api: 'llama-server' } }, { maxTokens: 48 });
      for (const c of [CASES[2]!, CASES[4]!, LONG]) {
        const t0 = performance.now();
        const expected = await complete(plain, c);
        const t1 = performance.now();
        expect(await complete(speculative, c), c.uri).toBe(expected);
        console.log(`${c.uri}: plain ${(t1 - t0).toFixed(0)} ms, speculative ${(performance.now() - t1).toFixed(0)} ms`);
      }
      const accepted = [...spec.log().matchAll(/draft acceptance = [\d.]+ \( *(\d+) accepted \/ *(\d+) generated\)/g)].map((m) => [Number(m[1]), Number(m[2])]);
      console.log(`llama-server n-gram drafts, accepted/generated per request: ${accepted.map(([a, g]) => `${a}/${g}`).join(' ')}`);
      expect(accepted.reduce((n, [a]) => n + a!, 0)).toBeGreaterThan(0);
    } finally {
      await spec.stop();
    }
  });

  it('sends the API key from the environment variable it names; a wrong key is a clear error; the key is in no log, status or trace', async () => {
    const key = `sk-slipstream-test-${process.pid}-${Date.now()}`;
    const env = 'SLIPSTREAM_TEST_LLAMA_KEY';
    const guarded = await LlamaServer.start(ggufs.get(shippedModel), { parallel: 1, ctx: 2048, apiKey: key });
    const dir = mkdtempSync(join(tmpdir(), 'slipstream-trace-'));
    process.env[env] = key;
    try {
      const traceFile = join(dir, 'traces.jsonl');
      const good = await serverPair({ backend: 'remote', remote: { url: guarded.url, api: 'openai', apiKeyEnv: env } }, {}, { trace: { file: traceFile }, log: { level: 'debug' } });
      expect(await complete(good, CASES[0]!)).not.toBeNull();
      const goodStatus = await status(good);
      expect(goodStatus.engine.remote).toMatchObject({ apiKeyEnv: env, apiKeySet: true, failures: 0 });

      const none = await serverPair({ backend: 'remote', remote: { url: guarded.url, api: 'llama-server' } }, {}, { log: { level: 'debug' } });
      expect(await complete(none, CASES[0]!)).toBeNull();
      const t = await lastTrace(none);
      expect(t.error).toMatch(/^ENGINE_REMOTE_HTTP: .* answered HTTP 401: Invalid API Key/);

      await new Promise((r) => setTimeout(r, 100)); // the trace file is appended asynchronously
      const everything = [
        JSON.stringify(goodStatus),
        JSON.stringify(await good.client.sendRequest('slipstream/traces', {})),
        readFileSync(traceFile, 'utf8'),
        ...good.logs.map((l) => l.message),
        ...none.logs.map((l) => l.message),
        JSON.stringify(await none.client.sendRequest('slipstream/traces', {})),
      ].join('\n');
      expect(everything).toContain(env);
      expect(everything).not.toContain(key);
    } finally {
      delete process.env[env];
      rmSync(dir, { recursive: true, force: true });
      await guarded.stop();
    }
  });
});
