// Writes the fuzz targets' seed corpora (native/fuzz/corpus/<target>/), small valid inputs of
// every shape the parsers accept, from the repository's fixtures and hand-written variants.
// Deterministic: rerunning gives the same files. Usage: node native/fuzz/make-corpus.mjs
// (ctest replays these seeds; native/fuzz/run.sh starts libFuzzer from them).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, '..', '..', 'fixtures', 'models');
const out = join(here, 'corpus');

const seeds = {};
function seed(target, name, data) {
  (seeds[target] ??= []).push([name, typeof data === 'string' ? Buffer.from(data) : data]);
}
const json = (v) => JSON.stringify(v);
const readJson = (p) => JSON.parse(readFileSync(p, 'utf8'));

// ---- config.json (model) ----------------------------------------------------------------------
const shipped = readJson(join(fixtures, 'slipstream-code', 'config.json'));
const stories = readJson(join(fixtures, 'stories260K', 'config.json'));
seed('config', 'slipstream-code.json', json(shipped));
seed('config', 'stories260K.json', json(stories));
const base = { model_type: 'llama', vocab_size: 300, hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4 };
seed('config', 'minimal.json', json(base));
seed('config', 'llama3-rope.json', json({ ...base, num_key_value_heads: 2, head_dim: 16, max_position_embeddings: 256, rope_theta: 500000,
  rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 },
  bos_token_id: 1, eos_token_id: [2, 3], tie_word_embeddings: true, torch_dtype: 'bfloat16' }));
seed('config', 'transformers5-rope-parameters.json', json({ ...base, dtype: 'float32',
  rope_parameters: { rope_type: 'linear', factor: 2, rope_theta: 1000000 }, hidden_act: 'silu' }));
seed('config', 'qwen2.json', json({ ...base, model_type: 'qwen2', architectures: ['Qwen2ForCausalLM'], num_key_value_heads: 4,
  rms_norm_eps: 1e-6, rope_theta: 1e6, sliding_window: 131072, use_sliding_window: false, tie_word_embeddings: false }));
seed('config', 'mistral-architectures-only.json', json({ ...base, model_type: undefined, architectures: ['MistralForCausalLM'],
  head_dim: 8, num_attention_heads: 8, num_key_value_heads: 2, sliding_window: null, rope_scaling: null }));

// ---- config.json (drafter) --------------------------------------------------------------------
seed('drafter-config', 'slipstream-code-drafter.json', json(readJson(join(fixtures, 'slipstream-code-drafter', 'config.json'))));
seed('drafter-config', 'no-rnn.json', json({ vocab_size: 300, hidden_size: 64, exit_dim: 128, num_draft_layers: 2 }));
seed('drafter-config', 'rnn-input-proj.json', json({ model_type: 'recurrent_drafting_drafter', vocab_size: 512, hidden_size: 64,
  exit_dim: 96, num_draft_layers: 1, rnn: true }));

// ---- model.safetensors.index.json -------------------------------------------------------------
seed('safetensors-index', 'two-shards.json', json({ metadata: { total_size: 1234 }, weight_map: {
  'model.embed_tokens.weight': 'model-00001-of-00002.safetensors', 'model.norm.weight': 'model-00002-of-00002.safetensors',
  'model.layers.0.input_layernorm.weight': 'model-00001-of-00002.safetensors' } }));
seed('safetensors-index', 'one-shard.json', json({ weight_map: { 'lm_head.weight': 'model.safetensors' } }));

// ---- tokenizer.json ---------------------------------------------------------------------------
seed('tokenizer-vocab', 'stories260K.json', readFileSync(join(fixtures, 'stories260K', 'tokenizer.json')));
seed('tokenizer-vocab', 'bpe-small.json', json({ version: '1.0', added_tokens: [{ id: 3, content: '<|endoftext|>', special: true }],
  model: { type: 'BPE', vocab: { a: 0, b: 1, ab: 2 }, merges: ['a b'] } }));
seed('tokenizer-vocab', 'bpe-merge-pairs.json', json({ model: { type: 'BPE', vocab: { 'Ġ': 0, x: 1, 'Ġx': 2 }, merges: [['Ġ', 'x']] } }));
seed('tokenizer-vocab', 'unigram.json', json({ model: { type: 'Unigram', unk_id: 0, vocab: [['<unk>', 0], ['▁a', -1.5], ['b', -2]] } }));
seed('tokenizer-vocab', 'added-only.json', json({ added_tokens: [{ id: 0, content: '<s>' }, { id: 1, content: '</s>' }], model: { type: 'WordLevel' } }));

// ---- JSON in general --------------------------------------------------------------------------
seed('json', 'escapes.json', '{"a\\u00e9\\ud83d\\ude00":"\\"\\\\\\/\\b\\f\\n\\r\\t","n":[-0.5e-3,1E+2,0,-12345678901234567890]}');
seed('json', 'nested.json', '[[[{"model":{"vocab":{"x":1}},"added_tokens":[{"id":2}]}]]]');
seed('json', 'scalars.json', ' true ');
seed('json', 'config.json', json(stories));

// ---- .safetensors files -----------------------------------------------------------------------
// A whole file: u64 header length, JSON header, data. Tensors get the fixtures' names with small
// shapes, so the seeds are realistic and a few hundred bytes long.
function safetensors(tensors, { metadata = { format: 'pt' }, pad = 8 } = {}) {
  const size = { F32: 4, BF16: 2, F16: 2, I32: 4, U8: 1 };
  const header = metadata ? { __metadata__: metadata } : {};
  let offset = 0;
  for (const [name, dtype, shape] of tensors) {
    const bytes = shape.reduce((a, b) => a * b, 1) * size[dtype];
    header[name] = { dtype, shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let text = JSON.stringify(header);
  while ((8 + text.length) % pad) text += ' ';
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(text.length));
  const data = Buffer.alloc(offset);
  for (let i = 0; i < offset; i++) data[i] = (i * 37 + 11) & 0xff;
  return Buffer.concat([len, Buffer.from(text), data]);
}
function fixtureNames(path) {
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  return Object.entries(header).filter(([k]) => k !== '__metadata__').map(([k, v]) => [k, v.dtype, v.shape.map(() => 2)]);
}
seed('safetensors-header', 'stories260K-names.safetensors', safetensors(fixtureNames(join(fixtures, 'stories260K', 'model.safetensors')).slice(0, 12)));
seed('safetensors-header', 'drafter-names.safetensors', safetensors(fixtureNames(join(fixtures, 'slipstream-code-drafter', 'model.safetensors'))));
seed('safetensors-header', 'dtypes.safetensors', safetensors([['f32', 'F32', [3, 2]], ['bf16', 'BF16', [5]], ['f16', 'F16', [1, 1, 2]],
  ['i32', 'I32', [2]], ['u8', 'U8', [3]], ['scalar', 'F32', []], ['empty', 'BF16', [0, 4]]]));
seed('safetensors-header', 'misaligned.safetensors', safetensors([['w', 'F32', [2, 2]]], { metadata: null, pad: 3 }));
seed('safetensors-header', 'empty-header.safetensors', safetensors([], { metadata: null }));

rmSync(out, { recursive: true, force: true });
let files = 0;
let bytes = 0;
for (const [target, list] of Object.entries(seeds)) {
  mkdirSync(join(out, target), { recursive: true });
  for (const [name, data] of list) {
    writeFileSync(join(out, target, name), data);
    files += 1;
    bytes += data.length;
  }
}
console.log(`make-corpus: ${files} seeds, ${bytes} bytes, in ${out}`);
