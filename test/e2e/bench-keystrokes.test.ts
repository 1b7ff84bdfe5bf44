/**
 * `slipstream bench keystrokes` against the real server and the shipped model and drafter: every
 * keystroke's request is answered, the JSON's counts and percentiles agree with each other, the
 * engine reports KV reuse for keystrokes after the first at a spot, and the typing-through cache
 * answers exactly when the user typed what the last suggestion predicted; the server's traces of
 * the run are written beside the result, and --compare-tracing types each spot with spans on and
 * off. No timing is asserted.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { KeystrokeBenchResult, KeystrokeGroup } from '../../bench/keystrokes.js';
import { planSpots } from '../../bench/keystroke-plan.js';
import type { RequestTrace } from '../../server/src/protocol.js';
import { repoRoot } from '../helpers/paths.js';
import { runCli } from '../helpers/run-cli.js';
import { checkTree } from '../helpers/span-checks.js';

const model = join(repoRoot, 'fixtures', 'models', 'slipstream-code');
const drafter = join(repoRoot, 'fixtures', 'models', 'slipstream-code-drafter');
const fixture = join(repoRoot, 'fixtures', 'workspace', 'src', 'lru-cache.ts');
const tmp = mkdtempSync(join(tmpdir(), 'bench-keystrokes-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const run = runCli;

function expectOrdered(g: KeystrokeGroup): void {
  const l = g.latency_ms!;
  expect(l.p50).toBeGreaterThan(0);
  expect(l.p50).toBeLessThanOrEqual(l.p90);
  expect(l.p90).toBeLessThanOrEqual(l.p99);
  expect(l.p99).toBeLessThanOrEqual(l.max);
}

describe('keystroke plan', () => {
  it('picks the same spots for the same seed, each inside one line, typing back the text that was there', () => {
    const text = readFileSync(fixture, 'utf8');
    const a = planSpots(text, 6, 9, 3);
    expect(planSpots(text, 6, 9, 3)).toEqual(a);
    expect(planSpots(text, 6, 9, 4)).not.toEqual(a);
    expect(a).toHaveLength(6);
    for (const s of a) {
      expect(s.typed.length).toBeGreaterThan(0);
      expect([...s.typed].length).toBeLessThanOrEqual(9);
      expect(s.typed).not.toContain('\n');
      expect(text.slice(s.offset, s.offset + s.typed.length)).toBe(s.typed);
      expect(text.slice(0, s.offset).split('\n').length - 1).toBe(s.line);
    }
    expect(new Set(a.map((s) => s.line)).size).toBe(6);
  });
});

describe('slipstream bench keystrokes', () => {
  it('answers every keystroke and reports consistent latency, cache and KV-reuse figures', async () => {
    const out = join(tmp, 'keystrokes.json');
    const recording = join(tmp, 'keystrokes.jsonl');
    const r = await run('bench', 'keystrokes', '--model', model, '--drafter', drafter, '--spots', '3', '--chars', '5', '--seed', '7', '--out', out, '--record', recording);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    for (const row of ['requests', 'latency p50 / p90 / p99 / max', 'first keystroke at a spot', 'typing-through cache hits', 'tokens per engine request'])
      expect(r.stdout).toContain(row);

    const res = JSON.parse(readFileSync(out, 'utf8')) as KeystrokeBenchResult;
    const spots = planSpots(readFileSync(fixture, 'utf8'), 3, 5, 7);
    const keystrokes = spots.reduce((n, s) => n + [...s.typed].length, 0);
    expect(res).toMatchObject({ spots: 3, chars: 5, seed: 7, interval_ms: 0, mode: 'redrafter' });
    expect(res.requests).toHaveLength(keystrokes);
    expect(res.requests.map((q) => q.typed).join('')).toBe(spots.map((s) => s.typed).join(''));

    // every request answered for its own text (each keystroke waited for its answer)
    expect(res.all).toMatchObject({ requests: keystrokes, answered: keystrokes });
    for (const q of res.requests) expect(['shown', 'cached', 'empty']).toContain(q.outcome);
    expect(res.first_keystroke.requests).toBe(3);
    expect(res.first_keystroke.requests + res.following_keystrokes.requests).toBe(keystrokes);
    const engine = res.requests.filter((q) => q.source === 'engine');
    const cached = res.requests.filter((q) => q.source === 'cache');
    expect(engine.length + cached.length).toBe(keystrokes);
    expect(res.all.engine_requests).toBe(engine.length);
    expect(res.all.cache_hits).toBe(cached.length);
    expect(res.all.cache_share).toBeCloseTo(cached.length / keystrokes, 10);
    expectOrdered(res.all);
    expectOrdered(res.first_keystroke);
    expect(res.all.latency_ms!.max).toBe(Math.max(...res.requests.map((q) => q.latency_ms)));

    // --record: every message the client sent, in order: one inline completion per keystroke
    // (plus the unmeasured one), each after the didChange that typed its character
    const sent = readFileSync(recording, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { method?: string });
    expect(sent[0]!.method).toBe('initialize');
    expect(sent.filter((m) => m.method === 'textDocument/inlineCompletion')).toHaveLength(keystrokes + 1);
    expect(sent.filter((m) => m.method === 'textDocument/didChange')).toHaveLength(keystrokes + 3);
    expect(sent.at(-1)!.method).toBe('exit');

    // the engine's prompt: at least one token computed, and after the first keystroke at a spot
    // the session already holds part of it (the KV cache survives from one keystroke to the next)
    for (const q of engine) {
      expect(q.prompt_tokens).toBeGreaterThan(0);
      expect(q.reused_tokens).not.toBeNull();
      expect(q.reused_tokens!).toBeGreaterThanOrEqual(0);
      expect(q.reused_tokens!).toBeLessThan(q.prompt_tokens!);
      if (q.keystroke > 0) expect(q.reused_tokens!).toBeGreaterThan(0);
    }
    const prompt = engine.reduce((s, q) => s + q.prompt_tokens!, 0);
    const reused = engine.reduce((s, q) => s + q.reused_tokens!, 0);
    expect(res.all.mean_prompt_tokens).toBeCloseTo(prompt / engine.length, 6);
    expect(res.all.reused_share).toBeCloseTo(reused / prompt, 6);

    // typing-through: answered from the cache exactly when the last suggestion predicted the keystroke
    for (let i = 1; i < res.requests.length; i++) {
      const prev = res.requests[i - 1]!;
      const q = res.requests[i]!;
      if (q.keystroke === 0) continue;
      const predicted = prev.suggestion.length > q.typed.length && prev.suggestion.startsWith(q.typed);
      expect(q.source === 'cache').toBe(predicted);
      if (q.source === 'cache') {
        expect(q.prompt_tokens).toBeNull();
        expect(q.suggestion).toBe(prev.suggestion.slice(q.typed.length));
      }
    }
  });

  it("writes the server's traces beside --out, and with --compare-tracing what the spans cost", async () => {
    const out = join(tmp, 'compare.json');
    const r = await run('bench', 'keystrokes', '--model', model, '--drafter', drafter, '--spots', '2', '--chars', '4', '--seed', '3', '--out', out, '--compare-tracing');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('tracing on vs off (client)');
    expect(r.stderr).toContain(`the server's traces of the`);
    const res = JSON.parse(readFileSync(out, 'utf8')) as KeystrokeBenchResult;
    const keystrokes = planSpots(readFileSync(fixture, 'utf8'), 2, 4, 3).reduce((n, s) => n + [...s.typed].length, 0);
    // every keystroke typed twice, once with spans and once without, the order alternating by spot
    expect(res.requests).toHaveLength(2 * keystrokes);
    expect(res.requests.filter((q) => q.tracing === true)).toHaveLength(keystrokes);
    expect(res.requests.filter((q) => q.spot === 0).map((q) => q.tracing)[0]).toBe(true);
    expect(res.requests.filter((q) => q.spot === 1).map((q) => q.tracing)[0]).toBe(false);
    const c = res.tracing_cost!;
    expect(c.pairs).toBeGreaterThan(0);
    expect(c.cost).toBeCloseTo((c.on_mean_ms - c.off_mean_ms) / c.off_mean_ms, 10);
    const traces = readFileSync(join(tmp, 'compare.trace.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as RequestTrace);
    expect(traces).toHaveLength(2 * keystrokes);
    res.requests.forEach((q, i) => {
      const t = traces[i]!;
      expect(t.version).toBeGreaterThan(0);
      expect(t.outcome).toBe(q.outcome);
      // the keystroke's time came with the request: the editor's share is known
      expect(t.client!.editorMs).toBeGreaterThanOrEqual(0);
      if (q.tracing) checkTree(t);
      else expect(t.spans).toBeUndefined();
    });
    // the engine's steps: a prefill, then ReDrafter rounds under decode
    const engine = traces.filter((t) => t.spans?.children?.some((c) => c.name === 'decode'));
    expect(engine.length).toBeGreaterThan(0);
    for (const t of engine) {
      const decode = t.spans!.children!.find((c) => c.name === 'decode')!;
      for (const round of decode.children ?? []) expect(round.attrs).toMatchObject({ mode: 'redrafter', tokens: expect.any(Number) });
      expect(t.spans!.children!.map((c) => c.name)).toEqual(expect.arrayContaining(['queue', 'prefill', 'decode']));
    }
  });

  it('exits 1 with one clear line when the server cannot load the model', async () => {
    const empty = mkdtempSync(join(tmp, 'no-model-'));
    const r = await run('bench', 'keystrokes', '--model', empty, '--spots', '1', '--chars', '1');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^slipstream bench: the server did not load the model: ENGINE_BAD_MODEL: .*no config\.json/m);
  });

  it('rejects a file that does not exist before starting a server', async () => {
    const r = await run('bench', 'keystrokes', '--model', model, '--file', join(tmp, 'absent.ts'));
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`slipstream bench: --file: no such file: ${join(tmp, 'absent.ts')}\n`);
  });
});
