/**
 * Saved quantized folders (`slipstream quantize`, docs/engine.md "Saved quantized folders")
 * through the CLI and the addon: the shipped model quantized to a temp folder loads again with no
 * quantization and decodes greedily token for token as the quantize-at-load model does, q8_0 and
 * q4_0; ReDrafter with the shipped drafter on the saved folder equals plain decoding; the folder
 * holds config.json with slipstream_weights and the tokenizer files; the CLI refuses a non-empty
 * --out, the --model folder as --out and --weights bf16 (exit 2, nothing written); loading with the
 * other format names the folder and both formats; a truncated saved file names the tensor; every
 * saved block is byte for byte the block bench/llama-cpp/gguf-quantize.ts (llama.cpp's reference
 * quantizers) makes of the same values.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Drafter, EngineError, Model, Tokenizer } from '../../native/lib/index.js';
import { cliPath, shippedDrafter, shippedModel } from '../helpers/paths.js';
import { CODE_PROMPTS, generateAll } from '../helpers/engine-compare.js';
import { quantizeRows, type QuantFormat } from '../../bench/llama-cpp/gguf-quantize.js';
import { readHeader, readModelTensors } from '../../bench/lib/safetensors.js';

const root = mkdtempSync(join(tmpdir(), 'slipstream-quant-save-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}


describe('slipstream quantize', () => {
  for (const weights of ['q8_0', 'q4_0'] as const) {
    it(`${weights}: the saved folder decodes as the quantize-at-load model, plain and with ReDrafter`, async () => {
      const out = join(root, weights);
      const r = cli('quantize', '--model', shippedModel, '--out', out, '--weights', weights, '--json');
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const result = JSON.parse(r.stdout);
      expect(result).toMatchObject({ out, weights, bytes: statSync(join(out, 'model.safetensors')).size });
      const others = readdirSync(shippedModel).filter((n) => !n.endsWith('.safetensors') && n !== 'config.json');
      expect(others).toContain('tokenizer.json');
      expect(readdirSync(out).sort()).toEqual([...others, 'config.json', 'model.safetensors'].sort());
      for (const n of others) expect(readFileSync(join(out, n)), n).toEqual(readFileSync(join(shippedModel, n)));
      const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
      const source = JSON.parse(readFileSync(join(shippedModel, 'config.json'), 'utf8'));
      expect(config).toEqual({ ...source, slipstream_weights: weights });
      // each quantized tensor holds llama.cpp's blocks of the source values (the engine's load-time
      // quantizer and its in-memory layout, converted back by the save)
      const file = join(out, 'model.safetensors');
      const { metadata, entries, dataStart } = readHeader(file);
      const bytes = readFileSync(file);
      const sources = readModelTensors(shippedModel);
      let compared = 0;
      for (const [name, e] of entries) {
        const format = metadata[`slipstream.quant.${name}`] as QuantFormat | undefined;
        if (e.dtype !== 'U8' || !format) continue;
        const src = sources.get(name)!;
        const [rows, cols] = src.shape as [number, number];
        const want = quantizeRows(format, src.data, rows, cols);
        const got = bytes.subarray(dataStart + e.data_offsets[0], dataStart + e.data_offsets[1]);
        expect(Buffer.compare(got, Buffer.from(want.buffer, want.byteOffset, want.byteLength)), `${weights} ${name}`).toBe(0);
        compared++;
      }
      expect(compared).toBeGreaterThanOrEqual(6 * 7);  // 6 layers x 7 matrices, and the head

      const saved = await Model.load(out, { backend: 'cpu', threads: 2 });  // 'bf16' (default): as stored
      const atLoad = await Model.load(shippedModel, { backend: 'cpu', threads: 2, weights });
      try {
        expect(saved.info.computeDtype).toBe(weights);
        expect(saved.info.savedWeights).toBe(weights);
        expect(atLoad.info.savedWeights).toBeNull();
        expect(saved.info.weightBytes).toBe(atLoad.info.weightBytes);
        const d = await Drafter.load(shippedDrafter, saved);
        const s = saved.createSession({ maxContext: 256 });
        const sa = atLoad.createSession({ maxContext: 256 });
        const tok = await Tokenizer.load(out);
        const n = 48;
        let accepted = 0;
        for (const text of CODE_PROMPTS) {
          const prompt = tok.encode(text);
          const plain = await generateAll(s, prompt, { maxTokens: n, stopTokens: [] });
          const ref = await generateAll(sa, prompt, { maxTokens: n, stopTokens: [] });
          expect(plain.ids.length).toBe(n);
          expect(Array.from(plain.ids), `${weights}: saved vs quantized at load`).toEqual(Array.from(ref.ids));
          for (const [M, L] of [[1, 3], [4, 5]] as [number, number][]) {
            const rd = await generateAll(s, prompt, { maxTokens: n, stopTokens: [], mode: 'redrafter', drafter: d, beams: M, beamLength: L });
            expect(Array.from(rd.ids), `${weights} ReDrafter M=${M} L=${L}`).toEqual(Array.from(plain.ids));
            accepted += (rd.stats.accepted_histogram ?? []).reduce((a, v, i) => a + v * i, 0);
          }
        }
        expect(accepted).toBeGreaterThan(0);
        s.dispose();
        sa.dispose();
        d.dispose();
      } finally {
        saved.dispose();
        atLoad.dispose();
      }
      // the same format asked for explicitly loads too; the other one is refused, naming the folder and both formats
      const same = await Model.load(out, { weights });
      same.dispose();
      const other = weights === 'q8_0' ? 'q4_0' : 'q8_0';
      const err = await Model.load(out, { weights: other }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EngineError);
      expect((err as EngineError).code).toBe('ENGINE_INVALID_ARGUMENT');
      expect((err as Error).message).toContain(`${out}: the folder is saved quantized as ${weights}`);
      expect((err as Error).message).toContain(`weights ${other} were asked for`);
      const info = cli('info', '--model', out);
      expect(info.status).toBe(0);
      expect(info.stdout).toContain(`stored ${weights} blocks (saved by slipstream quantize), norms bf16, computed ${weights}`);
      const gen = cli('generate', '--model', out, '--prompt-ids', '1', '--max-tokens', '2', '--weights', other);
      expect(gen.status).toBe(1);
      expect(gen.stderr).toContain(`saved quantized as ${weights}`);
    }, 120_000);
  }

  it('refuses --weights bf16, a non-empty --out and the --model folder as --out, writing nothing', () => {
    const bf16 = cli('quantize', '--model', shippedModel, '--out', join(root, 'never'), '--weights', 'bf16');
    expect(bf16.status).toBe(2);
    expect(bf16.stderr).toContain("--weights must be 'q8_0' or 'q4_0'");
    expect(existsSync(join(root, 'never'))).toBe(false);
    const missing = cli('quantize', '--model', shippedModel, '--weights', 'q8_0');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('--out DIR is required');
    const full = join(root, 'full');
    mkdirSync(full);
    writeFileSync(join(full, 'keep.txt'), 'mine');
    const r = cli('quantize', '--model', shippedModel, '--out', full, '--weights', 'q8_0');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('is not empty');
    expect(readdirSync(full)).toEqual(['keep.txt']);
    const self = cli('quantize', '--model', shippedModel, '--out', shippedModel, '--weights', 'q8_0');
    expect(self.status).toBe(2);
    expect(self.stderr).toContain('is the --model folder');
  });

  it('a truncated saved file is refused naming the file and the tensor', async () => {
    const out = join(root, 'truncated');
    expect(cli('quantize', '--model', shippedModel, '--out', out, '--weights', 'q4_0').status).toBe(0);
    const file = join(out, 'model.safetensors');
    truncateSync(file, statSync(file).size - 100);
    const err = await Model.load(out).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).code).toBe('ENGINE_BAD_MODEL');
    expect((err as Error).message).toMatch(/model\.safetensors: tensor 'model\.[a-z_.0-9]+' ?: data_offsets .* out of range/);
  });
});
