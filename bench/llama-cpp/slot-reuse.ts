/**
 * How much of each keystroke's prompt llama-server serves from cache when several documents take
 * turns (several editors' documents on one team server, engine.remote.api "llama-server"): the
 * model folder converted to GGUF, then for each server configuration (slots -np, its host-memory
 * prompt cache --cache-ram on or off) N documents typed in turn, each request the document's
 * first 2000 characters plus 3 more per round with cache_prompt (as the remote engine sends), with
 * and without pinning each document to a slot of its own (id_slot) where there are enough slots.
 * Prints, over the rounds after the first, the share of prompt tokens served from cache
 * (timings.cache_n) and the mean prompt time per request (timings.prompt_ms). The documents are
 * this repository's server/src/completion/*.ts files, read as text.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/llama-cpp/slot-reuse.js --model fixtures/models/slipstream-code
 *   options: --docs N (default 4)  --rounds N (default 10)
 * Needs llama-server built (bash bench/llama-cpp/setup.sh server).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { convertHfToGguf } from './hf-to-gguf.js';
import { startLlamaServer } from './llama-server-process.js';

interface Tally {
  cached: number;
  prompt: number;
  promptMs: number;
  requests: number;
}

/** The documents typed in turn, `rounds` requests each; slot d for document d when pinned. */
async function typeInTurn(url: string, docs: string[], rounds: number, pinned: boolean): Promise<Tally> {
  const t: Tally = { cached: 0, prompt: 0, promptMs: 0, requests: 0 };
  for (let round = 0; round < rounds; round++) {
    for (const [d, doc] of docs.entries()) {
      const body = { prompt: doc.slice(0, 2000 + round * 3), n_predict: 4, temperature: 0, cache_prompt: true, ...(pinned ? { id_slot: d } : {}) };
      const res = await fetch(`${url}/completion`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (!res.ok) throw new Error(`llama-server /completion: HTTP ${res.status}: ${await res.text()}`);
      const timings = ((await res.json()) as { timings: { cache_n: number; prompt_n: number; prompt_ms: number } }).timings;
      if (round === 0) continue; // the first round fills the caches
      t.cached += timings.cache_n;
      t.prompt += timings.cache_n + timings.prompt_n;
      t.promptMs += timings.prompt_ms;
      t.requests++;
    }
  }
  return t;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { model: { type: 'string' }, docs: { type: 'string', default: '4' }, rounds: { type: 'string', default: '10' } } });
  if (!values.model) throw new Error('--model <HF model folder> is required');
  const n = Number(values.docs);
  const rounds = Number(values.rounds);
  const srcDir = join('server', 'src', 'completion');
  const files = readdirSync(srcDir).filter((f) => f.endsWith('.ts')).sort().slice(0, n);
  const docs = files.map((f) => readFileSync(join(srcDir, f), 'utf8').slice(0, 3000));
  if (docs.length < n) throw new Error(`only ${docs.length} documents in ${srcDir}`);
  const dir = mkdtempSync(join(tmpdir(), 'slipstream-slot-reuse-'));
  const gguf = join(dir, 'model.gguf');
  convertHfToGguf(values.model, gguf);
  console.log(`model ${values.model}, ${n} documents typed in turn, ${rounds} requests each (the first round not counted), llama-server -t 1 -c 16384`);
  console.log('| slots | --cache-ram | id_slot | prompt tokens from cache | prompt ms per request |');
  console.log('| --- | --- | --- | ---: | ---: |');
  try {
    for (const cacheRam of ['default', '0']) {
      for (const slots of [1, n]) {
        const server = await startLlamaServer(gguf, ['-c', '16384', '-np', String(slots), '-t', '1', ...(cacheRam === '0' ? ['--cache-ram', '0'] : [])]);
        try {
          for (const pinned of slots >= n ? [false, true] : [false]) {
            const t = await typeInTurn(server.url, docs, rounds, pinned);
            console.log(`| ${slots} | ${cacheRam} | ${pinned ? 'document d: slot d' : 'not sent'} | ${((100 * t.cached) / t.prompt).toFixed(1)}% | ${(t.promptMs / t.requests).toFixed(2)} |`);
          }
        } finally {
          await server.stop();
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error((err as Error).message ?? err);
  process.exit(1);
});
