/**
 * What asking llama-server for the generated tokens' log-probabilities costs per suggestion (the
 * remote engine does it when completion.minTokenProbability > 0: n_probs 1 on /completion): the
 * model folder converted to GGUF and served by llama-server (one slot, one thread), then requests
 * alternating without and with n_probs 1 (so drift hits both alike), each the same seeded prompt
 * (its KV reused from the slot, as on consecutive keystrokes) and a fixed number of greedy tokens
 * (ignore_eos), timed from the POST to the end of the streamed response. Prints each side's
 * median and mean per request and per generated token, and the difference.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/llama-cpp/logprobs-cost.js --model fixtures/models/slipstream-code
 *   options: --requests N (pairs, default 200)  --tokens N (per request, default 16)  --prompt N (prompt tokens, default 256)
 * Needs llama-server built (bash bench/llama-cpp/setup.sh server).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { seededIds } from '../lib/seeded-ids.js';
import { convertHfToGguf } from './hf-to-gguf.js';
import { startLlamaServer } from './llama-server-process.js';

/** One streamed /completion request read to its end: milliseconds, and whether probabilities came back. */
async function timed(url: string, prompt: number[], tokens: number, probs: boolean): Promise<{ ms: number; sawProbs: boolean }> {
  const t0 = performance.now();
  const res = await fetch(`${url}/completion`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ prompt, n_predict: tokens, temperature: 0, ignore_eos: true, stream: true, cache_prompt: true, return_tokens: true, ...(probs ? { n_probs: 1 } : {}) }),
  });
  if (!res.ok) throw new Error(`llama-server /completion: HTTP ${res.status}: ${await res.text()}`);
  const text = await res.text();
  return { ms: performance.now() - t0, sawProbs: text.includes('"completion_probabilities"') };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { model: { type: 'string' }, requests: { type: 'string', default: '200' }, tokens: { type: 'string', default: '16' }, prompt: { type: 'string', default: '256' } } });
  if (!values.model) throw new Error('--model <HF model folder> is required');
  const pairs = Number(values.requests);
  const tokens = Number(values.tokens);
  const config = JSON.parse(readFileSync(join(values.model, 'config.json'), 'utf8')) as { vocab_size: number };
  const dir = mkdtempSync(join(tmpdir(), 'slipstream-logprobs-cost-'));
  const gguf = join(dir, 'model.gguf');
  convertHfToGguf(values.model, gguf);
  const server = await startLlamaServer(gguf, ['-c', '2048', '-np', '1', '-t', '1']);
  const url = server.url;
  try {
    // ids from 256 on: clear of the special tokens at the start of the byte-level vocabularies
    const prompt = Array.from(seededIds(Number(values.prompt), 256, Math.min(config.vocab_size, 32_000), 7));
    for (let i = 0; i < 5; i++) await timed(url, prompt, tokens, i % 2 === 1); // warm-up
    const without: number[] = [];
    const withProbs: number[] = [];
    for (let i = 0; i < pairs; i++) {
      // alternate which goes first
      for (const probs of i % 2 ? [true, false] : [false, true]) {
        const r = await timed(url, prompt, tokens, probs);
        if (r.sawProbs !== probs) throw new Error(`n_probs ${probs ? 1 : 0} but the response ${r.sawProbs ? 'had' : 'had no'} completion_probabilities`);
        (probs ? withProbs : without).push(r.ms);
      }
    }
    const line = (name: string, xs: number[]): string => `${name}: median ${median(xs).toFixed(2)} ms, mean ${mean(xs).toFixed(2)} ms per request (${(median(xs) / tokens).toFixed(3)} ms per token, median)`;
    console.log(`model ${values.model} (vocabulary ${config.vocab_size}), ${pairs} pairs of requests, ${tokens} tokens each, prompt ${prompt.length} tokens (cached), llama-server -t 1 -np 1`);
    console.log(line('without n_probs', without));
    console.log(line('with n_probs 1 ', withProbs));
    const d = median(withProbs) - median(without);
    console.log(`difference: ${d.toFixed(2)} ms per request (${((d / median(without)) * 100).toFixed(1)} %), ${(d / tokens).toFixed(3)} ms per token (medians)`);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error((err as Error).message ?? err);
  process.exit(1);
});
