/**
 * Quantized weights' accuracy, ours against llama.cpp's, on the same model and tokens: for each
 * format (q8_0, q4_0) and each program, the share of positions whose top-1 next token agrees with
 * that program's own unquantized (bf16) model, and the mean KL(p_bf16 || p_quantized) of the
 * next-token distribution, over every position of one forward of a token sequence (the start of a
 * fixtures/workspace file by default). Ours through the addon (Model.load({ weights })); llama.cpp
 * through llama-logits (llama-logits.cpp, built by setup.sh) on GGUF conversions with the same
 * blocks (hf-to-gguf.ts --weights: layers in the format, token_embd/output Q8_0). Row widths must
 * be multiples of 32 (ggml's rule), so stories260K (MLP 172) cannot be converted; the shipped
 * model can. Prints a table; the figures go to docs/performance.md by hand.
 *
 *   npm run build && node dist/bench/llama-cpp/quant-accuracy.js [--model DIR] [--file F] [--tokens N]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Model, Tokenizer } from '../../native/lib/index.js';
import { packageRoot } from '../../server/src/package-root.js';
import { cachedGguf } from './compare.js';
import type { QuantFormat } from './gguf-quantize.js';

const ROOT = packageRoot();
// setup.sh builds it there; LLAMA_LOGITS=PATH runs another build
const LLAMA_LOGITS = process.env.LLAMA_LOGITS ?? join(ROOT, '.bench-deps', 'llama-cpp', 'build', 'bin', 'llama-logits');

interface Agreement { top1: number; meanKl: number }

/** Top-1 agreement and mean KL(ref || q) over the rows of two (n, vocab) logit arrays. */
export function agreement(ref: Float32Array, q: Float32Array, vocab: number): Agreement {
  const n = ref.length / vocab;
  let top1 = 0, kl = 0;
  for (let i = 0; i < n; i++) {
    const r = ref.subarray(i * vocab, (i + 1) * vocab), x = q.subarray(i * vocab, (i + 1) * vocab);
    let ar = 0, aq = 0;
    for (let v = 1; v < vocab; v++) {
      if (r[v]! > r[ar]!) ar = v;
      if (x[v]! > x[aq]!) aq = v;
    }
    let zr = 0, zq = 0;
    for (let v = 0; v < vocab; v++) {
      zr += Math.exp(r[v]! - r[ar]!);
      zq += Math.exp(x[v]! - x[aq]!);
    }
    const lzr = Math.log(zr) + r[ar]!, lzq = Math.log(zq) + x[aq]!;
    let k = 0;
    for (let v = 0; v < vocab; v++) {
      const lp = r[v]! - lzr, lq = x[v]! - lzq;
      k += Math.exp(lp) * (lp - lq);
    }
    top1 += ar === aq ? 1 : 0;
    kl += k;
  }
  return { top1: top1 / n, meanKl: kl / n };
}

async function oursLogits(dir: string, weights: 'bf16' | QuantFormat, ids: Int32Array): Promise<Float32Array> {
  const model = await Model.load(dir, { threads: 2, weights });
  try {
    const s = model.createSession({ maxContext: ids.length + 8 });
    const r = await s.forward(ids, { outputRows: Int32Array.from(ids, (_, i) => i) });
    s.dispose();
    return r.logits;
  } finally {
    model.dispose();
  }
}

function llamaLogits(gguf: string, ids: Int32Array, tmp: string): Float32Array {
  const idsPath = join(tmp, 'ids.bin'), out = join(tmp, 'logits.bin');
  writeFileSync(idsPath, new Uint8Array(ids.buffer, ids.byteOffset, ids.byteLength));
  const r = spawnSync(LLAMA_LOGITS, [gguf, idsPath, out, '--threads', '2'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`llama-logits ${gguf}: ${r.error?.message ?? ''} ${r.stderr ?? ''}`);
  const b = readFileSync(out);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

async function main(argv: string[]): Promise<void> {
  let model = join(ROOT, 'fixtures', 'models', 'slipstream-code');
  let file = join(ROOT, 'fixtures', 'workspace', 'src', 'lru-cache.ts');
  let n = 256;
  for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] === '--model') model = argv[i + 1]!;
    else if (argv[i] === '--file') file = argv[i + 1]!;
    else if (argv[i] === '--tokens') n = Number(argv[i + 1]);
    else throw new Error('usage: node dist/bench/llama-cpp/quant-accuracy.js [--model DIR] [--file F] [--tokens N]');
  }
  const tok = await Tokenizer.load(model);
  const ids = tok.encode(readFileSync(file, 'utf8')).slice(0, n);
  const tmp = mkdtempSync(join(tmpdir(), 'quant-accuracy-'));
  const cache = join(ROOT, 'bench', 'results', 'tmp', 'gguf');
  try {
    const vocab = (await Model.load(model, { threads: 1 })).info.vocabSize;
    const oursRef = await oursLogits(model, 'bf16', ids);
    const llamaRef = llamaLogits(cachedGguf(model, cache), ids, tmp);
    const llamaVocab = llamaRef.length / ids.length;
    const rows: string[] = [`model ${model}, ${ids.length} tokens of ${file}`];
    const cross = agreement(oursRef, llamaRef.length === oursRef.length ? llamaRef : oursRef, vocab);
    rows.push(`bf16: ours vs llama.cpp: top-1 ${cross.top1.toFixed(4)}, mean KL ${cross.meanKl.toExponential(2)} (vocab ${vocab} / ${llamaVocab})`);
    for (const w of ['q8_0', 'q4_0'] as const) {
      const o = agreement(oursRef, await oursLogits(model, w, ids), vocab);
      const l = agreement(llamaRef, llamaLogits(cachedGguf(model, cache, w), ids, tmp), llamaVocab);
      rows.push(`${w}: ours top-1 ${o.top1.toFixed(4)}, mean KL ${o.meanKl.toFixed(5)}; llama.cpp top-1 ${l.top1.toFixed(4)}, mean KL ${l.meanKl.toFixed(5)}`);
    }
    process.stdout.write(`${rows.join('\n')}\n`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`quant-accuracy: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
