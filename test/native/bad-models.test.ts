/**
 * Broken model folders are refused by Model.load with one EngineError (ENGINE_BAD_MODEL) whose
 * message names the file and, where one is at fault, the tensor (or the config.json field and its
 * range); and the process goes on to load a good model afterwards. Each case starts from a valid
 * tiny random folder and breaks one thing.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EngineError, Model } from '../../native/lib/index.js';
import { readHeader, readSafetensors, writeSafetensors } from '../../bench/lib/safetensors.js';
import { removeTempModels, tempModel } from '../helpers/engine-compare.js';

afterAll(removeTempModels);

const ST = 'model.safetensors';

function goodFolder(): string {
  return tempModel({ preset: 'tiny-llama3', dtype: 'f32', seed: 31 });
}

/** Rewrites model.safetensors with an edited JSON header (correct length prefix) and the same data. */
function editHeader(dir: string, edit: (h: Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>) => void): void {
  const path = join(dir, ST);
  const buf = readFileSync(path);
  const { headerLength } = readHeader(path);
  const header = JSON.parse(buf.subarray(8, 8 + headerLength).toString('utf8'));
  edit(header);
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(path, Buffer.concat([prefix, Buffer.from(json), buf.subarray(8 + headerLength)]));
}

function editConfig(dir: string, edit: (c: Record<string, unknown>) => void): void {
  const c = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  edit(c);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(c, null, 2));
}

/** Loads and returns the EngineError (fails the test when the load succeeds or throws something else). */
async function loadError(dir: string): Promise<EngineError> {
  let model: Model | undefined;
  try {
    model = await Model.load(dir, { backend: 'cpu' });
  } catch (err) {
    expect(err).toBeInstanceOf(EngineError);
    return err as EngineError;
  }
  model.dispose();
  throw new Error(`Model.load(${dir}) succeeded on a broken folder`);
}

describe('Model.load on broken folders', () => {
  it('names the file and a tensor past the end of a truncated safetensors file', async () => {
    const dir = goodFolder();
    const path = join(dir, ST);
    const { entries, dataStart } = readHeader(path);
    const size = readFileSync(path).length;
    truncateSync(path, Math.floor(size / 2));
    const beyond = [...entries].filter(([, e]) => dataStart + e.data_offsets[1] > Math.floor(size / 2)).map(([n]) => n);
    const err = await loadError(dir);
    expect(err.code).toBe('ENGINE_BAD_MODEL');
    expect(err.message).toContain(path);
    expect(beyond.some((n) => err.message.includes(n))).toBe(true);
  });

  it('names the file and the tensor whose data_offsets lie outside the data', async () => {
    const dir = goodFolder();
    editHeader(dir, (h) => { h['model.norm.weight'].data_offsets = [10_000_000, 10_000_256]; });
    const err = await loadError(dir);
    expect(err.code).toBe('ENGINE_BAD_MODEL');
    expect(err.message).toContain(join(dir, ST));
    expect(err.message).toContain('model.norm.weight');
  });

  it('names the file when the header length runs past the end of the file', async () => {
    const dir = goodFolder();
    const path = join(dir, ST);
    const buf = readFileSync(path);
    buf.writeBigUInt64LE(BigInt(buf.length + 1000), 0);
    writeFileSync(path, buf);
    const err = await loadError(dir);
    expect(err.code).toBe('ENGINE_BAD_MODEL');
    expect(err.message).toContain(path);
    expect(err.message).toMatch(/header/i);
  });

  it('names the file when the header length cuts the JSON short', async () => {
    const dir = goodFolder();
    const path = join(dir, ST);
    const buf = readFileSync(path);
    buf.writeBigUInt64LE(buf.readBigUInt64LE(0) - 40n, 0);
    writeFileSync(path, buf);
    const err = await loadError(dir);
    expect(err.code).toBe('ENGINE_BAD_MODEL');
    expect(err.message).toContain(path);
  });

  it('names a missing tensor', async () => {
    const dir = goodFolder();
    const path = join(dir, ST);
    const { tensors } = readSafetensors(path);
    writeSafetensors(path, [...tensors].filter(([n]) => n !== 'model.layers.1.mlp.up_proj.weight')
      .map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape, data: t.data })));
    const err = await loadError(dir);
    expect(err.code).toBe('ENGINE_BAD_MODEL');
    expect(err.message).toContain('model.layers.1.mlp.up_proj.weight');
  });

  it('names a tensor whose shape disagrees with config.json (transposed)', async () => {
    const dir = goodFolder();
    editHeader(dir, (h) => { h['model.layers.1.self_attn.k_proj.weight'].shape.reverse(); });
    const err = await loadError(dir);
    expect(err.code).toBe('ENGINE_BAD_MODEL');
    expect(err.message).toContain(join(dir, ST));
    expect(err.message).toContain('model.layers.1.self_attn.k_proj.weight');
  });

  it('names the tensors when config.json disagrees with all of them (intermediate_size)', async () => {
    const dir = goodFolder();
    editConfig(dir, (c) => { c.intermediate_size = 130; });
    const err = await loadError(dir);
    expect(err.code).toBe('ENGINE_BAD_MODEL');
    expect(err.message).toMatch(/model\.layers\.\d+\.mlp\.(gate|up|down)_proj\.weight/);
  });

  it('names a tensor whose dtype disagrees with config.json', async () => {
    const dir = goodFolder(); // torch_dtype float32
    const path = join(dir, ST);
    const { tensors } = readSafetensors(path);
    writeSafetensors(path, [...tensors].map(([name, t]) => ({
      name, dtype: name === 'model.layers.0.mlp.down_proj.weight' ? 'F16' as const : t.dtype, shape: t.shape, data: t.data,
    })));
    const err = await loadError(dir);
    expect(err.code).toBe('ENGINE_BAD_MODEL');
    expect(err.message).toContain('model.layers.0.mlp.down_proj.weight');
  });

  it('names a tensor stored in an unsupported dtype', async () => {
    const dir = goodFolder();
    editHeader(dir, (h) => {
      const e = h['model.layers.0.input_layernorm.weight'];
      e.dtype = 'I32'; // same byte size as F32, so only the dtype is wrong
    });
    const err = await loadError(dir);
    expect(err.code).toBe('ENGINE_BAD_MODEL');
    expect(err.message).toContain('model.layers.0.input_layernorm.weight');
    expect(err.message).toContain('I32');
  });

  it('names config.json and the architecture when it is not supported', async () => {
    const dir = goodFolder();
    editConfig(dir, (c) => { c.model_type = 'gpt2'; c.architectures = ['GPT2LMHeadModel']; });
    const err = await loadError(dir);
    expect(err.code).toBe('ENGINE_BAD_MODEL');
    expect(err.message).toContain(join(dir, 'config.json'));
    expect(err.message).toMatch(/gpt2|GPT2LMHeadModel/);
  });

  it('names tokenizer.json when it has ids beyond vocab_size', async () => {
    const dir = goodFolder(); // vocab_size 300, tokenizer ids 0..292
    const path = join(dir, 'tokenizer.json');
    const tj = JSON.parse(readFileSync(path, 'utf8'));
    tj.added_tokens.push({ id: 400, content: '<|extra|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
    writeFileSync(path, JSON.stringify(tj));
    const err = await loadError(dir);
    expect(err.code).toBe('ENGINE_BAD_MODEL');
    expect(err.message).toContain(path);
    expect(err.message).toMatch(/vocab/);
  });

  // issue #12: each of these once loaded and gave nothing (or allocated 464 MB first, or said out of memory)
  for (const [key, value, expected] of [
    ['num_hidden_layers', 1_000_000, "'num_hidden_layers' is 1000000: it must be an integer in 1..1024"],
    ['num_hidden_layers', 2 ** 31 - 1, "'num_hidden_layers' is 2147483647: it must be an integer in 1..1024"],
    ['rope_theta', 0, "'rope_theta' is 0: it must be in (1, 1000000000000]"],
    ['rope_theta', -10_000, "'rope_theta' is -10000: it must be in (1, 1000000000000]"],
    ['rms_norm_eps', -1, "'rms_norm_eps' is -1: it must be in (0, 1]"],
    ['rms_norm_eps', 0, "'rms_norm_eps' is 0: it must be in (0, 1]"],
    ['max_position_embeddings', 1, "'max_position_embeddings' is 1: it must be an integer in 64..16777216"],
  ] as const) {
    it(`refuses config.json with ${key} ${value}, naming the field and its range`, async () => {
      const dir = goodFolder();
      editConfig(dir, (c) => { c[key] = value; });
      const err = await loadError(dir);
      expect(err.code).toBe('ENGINE_BAD_MODEL');
      expect(err.message).toBe(`${join(dir, 'config.json')}: ${expected}`);
    });
  }

  it('refuses a tokenizer.json with an empty vocabulary', async () => {
    const dir = goodFolder();
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({ model: { type: 'BPE', vocab: {}, merges: [] }, added_tokens: [] }));
    const err = await loadError(dir);
    expect(err.message).toBe(`${join(dir, 'tokenizer.json')}: the vocabulary is empty (no model.vocab entries and no added_tokens)`);
  });

  for (const name of ['config.json', 'tokenizer.json', 'generation_config.json', ST]) {
    it(`refuses a FIFO as ${name} at once instead of waiting for a writer`, async () => {
      const dir = goodFolder();
      rmSync(join(dir, name), { force: true });
      execFileSync('mkfifo', [join(dir, name)]);
      const err = await loadError(dir);
      expect(err.code).toBe('ENGINE_BAD_MODEL');
      expect(err.message).toBe(`${join(dir, name)}: is a FIFO, not a regular file`);
    });
  }

  it('still loads and runs a good model after all of these', async () => {
    const model = await Model.load(goodFolder(), { backend: 'cpu' });
    const s = model.createSession();
    const { logits } = await s.forward(Int32Array.of(1, 2, 3));
    expect(logits.length).toBe(300);
    expect(logits.every((v) => Number.isFinite(v))).toBe(true);
    s.dispose();
    model.dispose();
  });
});
