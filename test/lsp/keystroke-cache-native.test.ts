/**
 * Caches change speed, never output (issue 14), on the real engine with the shipped model and its
 * drafter in ReDrafter mode: the same typing (a function body of fixtures/workspace typed
 * character by character, one request per keystroke, one at a time, greedy) replayed with
 * cache.enabled on and off gives the same suggestion at every keystroke where the engine ran with
 * the cache on, including those where a diverged suggestion's rest went to the engine as extra
 * drafts (their verification is exact; some of their tokens are accepted). At the host, a
 * generation given its own output as an extra draft, or a wrong one, gives the same ids as one
 * without, and accepts the right draft's tokens, in ReDrafter's rounds and in rounds of their own
 * without a drafter (where the load's check found a few rows cheap; none under engine.mode "ar"). With the cache on, resident KV is reused and typing
 * through answers without the engine and the engine's block pool holds the prompts' blocks; with
 * it off, nothing is reused and the pool is off. A prefetch computes what
 * follows an accepted suggestion: the request after the accept gets exactly what a cold server computes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultSettings } from '../../server/src/config.js';
import { defaultModelDirs } from '../../server/src/completion/default-model.js';
import { NativeEngineHost } from '../../server/src/completion/native-engine-host.js';
import { LOOKUP_MAX_ROW_COST } from '../../server/src/completion/row-cost.js';
import { Logger } from '../../server/src/log.js';
import type { StatusResult, TracesResult } from '../../server/src/protocol.js';
import { fakeRowCost } from '../helpers/fake-row-cost.js';
import { createPair, type LspPair } from '../helpers/lsp-pair.js';
import { repoRoot } from '../helpers/paths.js';

let pair: LspPair | undefined;
afterEach(async () => {
  await pair?.client.sendRequest('shutdown');
  pair?.dispose();
  pair = undefined;
});

const file = readFileSync(join(repoRoot, 'fixtures', 'workspace', 'src', 'stats.ts'), 'utf8');
const body = '  const sorted = [...values].sort((a, b) => a - b);\n  const index = Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length));\n';
const at = file.indexOf(body);

interface Keystroke {
  text: string | null;
  outcome: string;
  cacheHit?: string;
  reusedTokens?: number;
  draftsOffered: number;
}

/** Types `body` into stats.ts at its place, asking for a suggestion after each character. */
async function replay(cache: boolean): Promise<{ keys: Keystroke[]; status: StatusResult }> {
  const p = createPair({});
  pair = p;
  // (no time budget: a cold request that a busy machine kept past it would show its early part, unlike the other replay's)
  await p.initialize({}, { completion: { debounceMs: 0, maxTokens: 24, timeBudgetMs: 0 }, engine: { mode: 'redrafter' }, cache: { enabled: cache, prefetch: false }, trace: { capacity: 1000 } });
  const uri = 'file:///work/stats.ts';
  let text = file.slice(0, at) + file.slice(at + body.length);
  await p.open(uri, text, 'typescript', 1);
  const keys: Keystroke[] = [];
  for (let i = 0; i < body.length; i++) {
    const offset = at + i;
    const before = text.slice(0, offset);
    const line = before.split('\n').length - 1;
    const character = offset - (before.lastIndexOf('\n') + 1);
    text = text.slice(0, offset) + body[i] + text.slice(offset);
    await p.change(uri, i + 2, [{ range: { start: { line, character }, end: { line, character } }, text: body[i]! }]);
    const after = text.slice(0, offset + 1);
    const list = await p.inline(uri, { line: after.split('\n').length - 1, character: offset + 1 - (after.lastIndexOf('\n') + 1) });
    const item = list?.items[0];
    keys.push({ text: item ? String(item.insertText) : null, outcome: '', draftsOffered: 0 });
  }
  // the server's own prefetches (cache.prefetch, on by default) are traced too: the requests' traces only
  const traces = ((await p.client.sendRequest('slipstream/traces', {})) as TracesResult).traces.filter((t) => t.trigger !== 'prefetch');
  expect(traces).toHaveLength(keys.length);
  traces.forEach((t, i) => Object.assign(keys[i]!, { outcome: t.outcome, cacheHit: t.cacheHit, reusedTokens: t.reusedTokens, draftsOffered: t.draftTokens?.offered ?? 0 }));
  const status = (await p.client.sendRequest('slipstream/status', {})) as StatusResult;
  await p.client.sendRequest('shutdown');
  p.dispose();
  pair = undefined;
  return { keys, status };
}

describe('keystroke cache on the shipped model', () => {
  it('gives the same engine-computed suggestions with the cache on and off', async () => {
    expect(at).toBeGreaterThan(0);
    const on = await replay(true);
    const off = await replay(false);
    expect(on.status.engine.mode).toBe('redrafter');
    expect(on.keys.every((k) => k.outcome !== 'error')).toBe(true);
    const computed = on.keys.map((k, i) => ({ k, i })).filter(({ k }) => k.outcome === 'shown' || k.outcome === 'empty');
    expect(computed.length).toBeGreaterThan(5);
    for (const { k, i } of computed) expect({ i, text: off.keys[i]!.text }).toEqual({ i, text: k.text });
    // the cache did its work: answers without the engine, resident KV reused, drafts verified
    expect(on.keys.filter((k) => k.cacheHit === 'typing').length).toBeGreaterThan(0);
    expect(computed.filter(({ k }) => (k.reusedTokens ?? 0) > 0).length).toBe(computed.length - 1);
    expect(computed.filter(({ k }) => k.draftsOffered > 0).length).toBeGreaterThan(0);
    expect(on.status.cache.drafts.offered).toBeGreaterThan(0);
    expect(on.status.cache.drafts.accepted).toBeGreaterThan(0);
    expect(on.status.cache.kv).toMatchObject({ sessions: 1 });
    expect(on.status.cache.kv!.hits).toBe(computed.length - 1);
    // the engine's block pool: half of cache.kvBudgetMB (256 MiB by default), holding the prompts' blocks
    const pool = on.status.cache.kv!.pool!;
    expect(pool.budgetBytes).toBe(128 * 1024 * 1024);
    expect(pool.blocks).toBeGreaterThan(0);
    expect(on.status.cache.kv!.blocks).toBe(pool.blocks);
    expect(on.status.cache.kv!.bytes).toBeGreaterThan(pool.bytes);
    expect(on.status.cache.kv!.bytes).toBeLessThanOrEqual(on.status.cache.kv!.budgetBytes);
    // off: every request ran the engine cold
    expect(off.keys.every((k) => k.cacheHit === 'off' && k.outcome !== 'cached')).toBe(true);
    expect(off.keys.filter((k) => (k.reusedTokens ?? 0) > 0)).toEqual([]);
    expect(off.status.cache).toMatchObject({ enabled: false, suggestions: { entries: 0 }, drafts: { offered: 0 }, attached: 0 });
    // and the engine's block pool off: nothing kept, nothing found
    expect(off.status.cache.kv!.pool).toMatchObject({ budgetBytes: 0, blocks: 0, bytes: 0, hits: 0 });
  }, 180_000);
});

describe('prefetch on the shipped model', () => {
  /** A server on the shipped pair with the body's first line typed up to `const sorted = `. */
  async function open(cache: boolean): Promise<{ p: LspPair; uri: string; text: string; offset: number }> {
    const p = createPair({});
    pair = p;
    // a short suggestion, cut by maxTokens mid-line: what follows its acceptance is on the same line
    // (whole suggestions: minTokenProbability and timeBudgetMs 0; the cuts are confidence-native.test.ts's and time-budget-native.test.ts's)
    await p.initialize({}, { completion: { debounceMs: 0, maxTokens: 4, minTokenProbability: 0, timeBudgetMs: 0 }, engine: { mode: 'redrafter' }, cache: { enabled: cache } });
    const uri = 'file:///work/stats.ts';
    const offset = at + '  const sorted = '.length;
    const text = file.slice(0, offset) + file.slice(at + body.length);
    await p.open(uri, text, 'typescript', 1);
    return { p, uri, text, offset };
  }
  const position = (text: string, offset: number): { line: number; character: number } => {
    const before = text.slice(0, offset);
    return { line: before.split('\n').length - 1, character: offset - (before.lastIndexOf('\n') + 1) };
  };

  it('answers the request after an accept from the prefetch, with what the engine computes cold there', async () => {
    const { p, uri, text, offset } = await open(true);
    const shown = String((await p.inline(uri, position(text, offset)))?.items[0]?.insertText ?? '');
    expect(shown.length).toBeGreaterThan(0);
    const status = async (): Promise<StatusResult> => (await p.client.sendRequest('slipstream/status', {})) as StatusResult;
    await vi.waitFor(async () => expect((await status()).cache.prefetched.computed).toBe(1), { timeout: 30_000, interval: 50 });
    // the user accepts: the editor inserts the suggestion and asks again at its end
    await p.change(uri, 2, [{ range: { start: position(text, offset), end: position(text, offset) }, text: shown }]);
    const accepted = text.slice(0, offset) + shown + text.slice(offset);
    const next = (await p.inline(uri, position(accepted, offset + shown.length)))?.items[0]?.insertText;
    const traces = ((await p.client.sendRequest('slipstream/traces', {})) as TracesResult).traces;
    expect(traces.at(-1)).toMatchObject({ trigger: 'automatic', outcome: 'cached', cacheHit: 'prefetched' });
    expect((await status()).cache.prefetched).toMatchObject({ computed: 1, used: 1, abandoned: 0 });
    await p.client.sendRequest('shutdown');
    p.dispose();
    // the same request on a cold server
    const cold = await open(false);
    await cold.p.change(cold.uri, 2, [{ range: { start: position(text, offset), end: position(text, offset) }, text: shown }]);
    const computed = (await cold.p.inline(cold.uri, position(accepted, offset + shown.length)))?.items[0]?.insertText;
    expect(next).toBe(computed);
  }, 120_000);
});

describe('extra drafts at the native host', () => {
  // ReDrafter's rounds (the shipped pair), and rounds of their own without a drafter (the shipped
  // model configured alone; prompt lookup off, so only the extra drafts are verified)
  it.each([
    ['in ReDrafter rounds', { mode: 'redrafter' as const }],
    ['without a drafter', { mode: 'auto' as const, model: defaultModelDirs().model, promptLookup: 0 }],
  ])('never change the output: a right draft is accepted, a wrong one is not, the ids are the same (%s)', async (_name, engine) => {
    // without a drafter, drafts are verified where a few rows cost little more than one: the
    // shipped model's do not, so its measured cost is replaced by a FAKE memory-bound model's
    const host = new NativeEngineHost(new Logger(() => {}), null, fakeRowCost(1.2));
    host.configure({ ...defaultSettings().engine, ...engine });
    try {
      const model = await host.ready();
      const tok = model.tokenizer;
      const prompt = tok.encode('export function mean(values: number[]): number {\n  let sum = 0;\n', { addSpecialTokens: true });
      const run = async (key: string, extraDrafts?: Int32Array[]): Promise<{ ids: number[]; drafts: [number, number] | null }> => {
        const ids: number[] = [];
        let drafts: [number, number] | null = null;
        const gen = host.generate({
          key, prompt, maxTokens: 24, stopTokens: [], temperature: 0, signal: new AbortController().signal, reuse: false,
          ...(extraDrafts ? { extraDrafts, onDrafts: (o: number, a: number) => (drafts = [o, a]) } : {}),
        });
        for (;;) {
          const r = await gen.next();
          if (r.done) break;
          for (const id of r.value as Int32Array) ids.push(id);
        }
        return { ids, drafts };
      };
      const cold = await run('a');
      expect(cold.ids.length).toBe(24);
      // the model's own continuation after its first token: what a suggestion typed through would offer
      const right = await run('b', [Int32Array.from(cold.ids)]);
      expect(right.ids).toEqual(cold.ids);
      expect(right.drafts![0]).toBe(24);
      expect(right.drafts![1]).toBeGreaterThan(0);
      const wrong = await run('c', [Int32Array.from(cold.ids.map((t) => (t + 7) % model.vocabSize))]);
      expect(wrong.ids).toEqual(cold.ids);
      expect(wrong.drafts![1]).toBe(0);
      expect(host.status().kv).toMatchObject({ sessions: 3 });
      expect(host.status().drafterDir === null).toBe(engine.mode === 'auto');
    } finally {
      await host.dispose();
    }
  }, 60_000);

  it('are taken in ReDrafter rounds, without a drafter where rows are cheap, never under engine.mode "ar"', async () => {
    const taken = async (engine: Partial<ReturnType<typeof defaultSettings>['engine']>, ratio: number): Promise<boolean> => {
      const host = new NativeEngineHost(new Logger(() => {}), null, fakeRowCost(ratio));
      host.configure({ ...defaultSettings().engine, ...engine });
      try {
        await host.ready();
        return host.takesExtraDrafts();
      } finally {
        await host.dispose();
      }
    };
    const alone = defaultModelDirs().model;
    expect(await taken({ mode: 'ar' }, 1.2)).toBe(false);
    expect(await taken({ mode: 'redrafter' }, 3)).toBe(true);
    expect(await taken({ mode: 'auto', model: alone }, 1.2)).toBe(true);
    expect(await taken({ mode: 'auto', model: alone }, LOOKUP_MAX_ROW_COST + 0.2)).toBe(false);
    expect(await taken({ mode: 'auto', model: alone, promptLookup: 0 }, 1.2)).toBe(true);
  }, 60_000);
});
