/**
 * The real server with nothing configured: `slipstream serve --stdio` with no flags and no settings
 * loads the shipped model and drafter from this package's fixtures/models, says so in
 * slipstream/status (source "default", the mode-auto decision with its calibration figures) and
 * answers a non-empty completion. A configured model that cannot load is an error shown to the
 * user (window/showMessage), never replaced by the default. `--mode ar` is an explicit choice.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LspClient } from '../../bench/lib/lsp-client.js';
import { repoRoot } from '../helpers/paths.js';

const shipped = join(repoRoot, 'fixtures', 'models');
let client: LspClient | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
});

/** Starts a server, initializes it with no options and waits until the model load has ended. */
async function start(args: string[], shown: string[]): Promise<LspClient> {
  const c = new LspClient(args, { onShowMessage: (m) => shown.push(m) });
  await c.initialize(undefined);
  for (let i = 0; i < 600; i++) {
    const s = await c.status();
    if (s.engine.state !== 'loading' && s.engine.state !== 'unloaded') return c;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the model load did not end in 30 s');
}

describe('slipstream serve with nothing configured', () => {
  it('loads the shipped model and drafter, reports them as the default and the mode decision, and completes', async () => {
    const shown: string[] = [];
    client = await start([], shown);
    const e = (await client.status()).engine;
    expect(e).toMatchObject({
      state: 'ready',
      model: { dir: join(shipped, 'slipstream-code'), source: 'default', fim: true },
      drafter: { dir: join(shipped, 'slipstream-code-drafter'), source: 'default' },
      backendInUse: 'cpu',
      modeSetting: 'auto',
    });
    // how it computes: the engine's default threads (at most the CPUs this process may use), bf16 as stored
    expect(e.model!.compute).toMatchObject({ weights: 'bf16', kernelPath: expect.stringMatching(/^(avx512bf16|avx512|avx2|ref)$/) });
    expect(e.model!.compute!.threads).toBeGreaterThanOrEqual(1);
    expect(e.model!.compute!.threads).toBeLessThanOrEqual(availableParallelism());
    // mode auto: the calibration ran plain decoding and every candidate tree shape, and the decision
    // follows its figures and the rule: the fastest shape, ReDrafter when it beats plain by 1.1x
    const c = e.modeDecision!.calibration!;
    expect(c.arMsPerToken).toBeGreaterThan(0);
    expect(c.shapes.map((s) => [s.beams, s.beamLength])).toEqual([[1, 2], [1, 3], [1, 4], [2, 4]]);
    for (const s of c.shapes) {
      expect(s.msPerToken).toBeGreaterThan(0);
      expect(s.tokensPerStep).toBeGreaterThanOrEqual(1);
      expect(s.speedup).toBeCloseTo(c.arMsPerToken / s.msPerToken, 10);
    }
    const fastest = c.shapes.reduce((a, s) => (s.msPerToken < a.msPerToken ? s : a));
    expect(e.mode).toBe(fastest.speedup >= 1.1 ? 'redrafter' : 'ar');
    expect(e.modeDecision!.shape).toEqual(e.mode === 'redrafter' ? { beams: fastest.beams, beamLength: fastest.beamLength } : null);
    expect(e.modeDecision!.reason).toMatch(new RegExp(`^auto: ReDrafter M=${fastest.beams} L=${fastest.beamLength} [\\d.]+ ms/token vs plain [\\d.]+ ms/token`));

    const text = 'export function mean(values: number[]): number {\n  ';
    await client.open('file:///mean.ts', 'typescript', `${text}\n}\n`);
    const list = await client.inlineCompletion(text.length, 'invoked');
    expect(list?.items[0]?.insertText.toString().trim().length).toBeGreaterThan(0);
    expect(shown).toEqual([]);
  });

  it('shows an error for a configured model that cannot load and does not fall back to the default', async () => {
    const shown: string[] = [];
    const notAModel = join(repoRoot, 'fixtures', 'workspace'); // a folder without config.json
    client = await start(['--model', notAModel], shown);
    const e = (await client.status()).engine;
    expect(e.state).toBe('error');
    expect(e.model).toBeNull();
    expect(e.error?.message).toContain(notAModel);
    expect(shown.length).toBeGreaterThan(0);
    expect(shown[0]).toContain(notAModel);
    const text = 'const x = ';
    await client.open('file:///x.ts', 'typescript', text);
    expect((await client.inlineCompletion(text.length, 'invoked'))?.items ?? []).toEqual([]);
  });

  it('decodes plainly with --mode ar although the shipped drafter is loaded', async () => {
    client = await start(['--mode', 'ar'], []);
    const e = (await client.status()).engine;
    expect(e).toMatchObject({ state: 'ready', mode: 'ar', modeSetting: 'ar', drafter: { source: 'default' }, modeDecision: { reason: 'engine.mode is "ar"', shape: null, calibration: null } });
  });
});
