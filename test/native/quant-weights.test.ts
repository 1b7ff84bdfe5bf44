/**
 * Quantized weights (engine.weights 'q8_0' / 'q4_0', docs/engine.md "Quantized weights") through
 * the addon: ReDrafter's invariant holds for the quantized model (greedy ReDrafter on the shipped
 * pair equals greedy plain decoding of the SAME quantized model, token for token, several tree
 * shapes; the quantized matmul is batch-invariant), the info reports the format and fewer weight
 * bytes, q8_0 keeps the shipped model's greedy output close to bf16's, the CLI's --weights, and a
 * bad format is refused.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Drafter, Model, Tokenizer } from '../../native/lib/index.js';
import { cliPath, shippedDrafter, shippedModel, stories260K } from '../helpers/paths.js';
import { CODE_PROMPTS, generateAll } from '../helpers/engine-compare.js';


describe('quantized weights', () => {
  for (const weights of ['q8_0', 'q4_0'] as const) {
    it(`${weights}: greedy ReDrafter on the shipped pair equals greedy plain decoding of the same quantized model`, async () => {
      const model = await Model.load(shippedModel, { backend: 'cpu', threads: 2, weights });
      const bf16 = await Model.load(shippedModel, { backend: 'cpu', threads: 1 });
      try {
        expect(model.info.computeDtype).toBe(weights);
        expect(model.info.weightBytes).toBeLessThan(bf16.info.weightBytes * (weights === 'q8_0' ? 0.6 : 0.45));
        const d = await Drafter.load(shippedDrafter, model);
        const s = model.createSession({ maxContext: 256 });
        const sb = bf16.createSession({ maxContext: 256 });
        const tok = await Tokenizer.load(shippedModel);
        const n = 48;
        let accepted = 0, samePrefix = 0;
        for (const text of CODE_PROMPTS) {
          const prompt = tok.encode(text);
          const plain = await generateAll(s, prompt, { maxTokens: n, stopTokens: [] });
          expect(plain.ids.length).toBe(n);
          for (const [M, L] of [[1, 3], [2, 4], [4, 5]] as [number, number][]) {
            const r = await generateAll(s, prompt, { maxTokens: n, stopTokens: [], mode: 'redrafter', drafter: d, beams: M, beamLength: L });
            expect(Array.from(r.ids), `${weights} M=${M} L=${L}`).toEqual(Array.from(plain.ids));
            accepted += (r.stats.accepted_histogram ?? []).reduce((a, v, i) => a + v * i, 0);
          }
          const ref = await generateAll(sb, prompt, { maxTokens: n, stopTokens: [] });
          let k = 0;
          while (k < n && ref.ids[k] === plain.ids[k]) k++;
          samePrefix += k;
        }
        expect(accepted).toBeGreaterThan(0);  // the drafter still drafts well for the quantized model
        // q8_0 follows bf16's greedy text for most of the tokens (measured: see docs/performance.md)
        if (weights === 'q8_0') expect(samePrefix).toBeGreaterThanOrEqual(Math.floor(0.5 * n * CODE_PROMPTS.length));
        s.dispose();
        sb.dispose();
        d.dispose();
      } finally {
        model.dispose();
        bf16.dispose();
      }
    }, 120_000);
  }

  it('slipstream info --weights q4_0 reports the format and its kernels; generate --weights checks its value', () => {
    const info = spawnSync(process.execPath, [cliPath, 'info', '--model', stories260K, '--weights', 'q4_0', '--json'], { encoding: 'utf8', timeout: 60_000 });
    expect(info.status).toBe(0);
    const model = JSON.parse(info.stdout).model;
    expect(model.computeDtype).toBe('q4_0');
    // the quantized kernels this CPU runs (AVX-512 VNNI, AVX2 or the reference), not the bf16 ones
    expect(['avx512vnni', 'avxvnni', 'avx2', 'ref']).toContain(model.kernelPath);
    const bad = spawnSync(process.execPath, [cliPath, 'generate', '--model', stories260K, '--prompt-ids', '1', '--weights', 'q5'], { encoding: 'utf8', timeout: 60_000 });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--weights must be 'bf16', 'q8_0', 'q4_0'/);
  });

  it('refuses an unknown format with a TypeError', async () => {
    await expect(Model.load(shippedModel, { weights: 'q3_k' as never })).rejects.toThrow(TypeError);
  });
});
