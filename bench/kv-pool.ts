/**
 * The engine's shared KV block pool (native/src/core/kv-pool.h) measured on the engine alone (no
 * server): the three multi-document files of fixtures/workspace/src one after another, three
 * times (starting with each), the first --tokens tokens as a prompt, one token generated (greedy),
 * and four ways to run it:
 *   cold       pool off, a fresh session: the whole prompt is prefilled
 *   publish    pool on but empty, a fresh session: the same work plus publishing its blocks (the cost)
 *   dropped    pool on, the prompt's session was freed (its blocks left in the pool), a fresh session
 *              with one more token typed: copies the resident blocks, prefills the rest
 *   alike      pool on, another live session holds the prompt, a fresh session with one more token
 *              typed (a document that starts like one already open)
 * Reports, per way, the median engine prefill milliseconds over --repeat runs and the prefilled
 * tokens, and checks that every way decides the same token as cold.
 *
 *   npm run build && node dist/bench/kv-pool.js [--tokens 500] [--repeat 5] [--threads N]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Model, Tokenizer, type Session } from '../native/lib/index.js';
import { defaultModelDirs } from '../server/src/completion/default-model.js';
import { packageRoot } from '../server/src/package-root.js';
import { MULTI_FILES } from './keystrokes-multi.js';

function flag(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

async function prefill(s: Session, prompt: Int32Array): Promise<{ ms: number; computed: number; token: number }> {
  const gen = s.generate(prompt, { maxTokens: 1 });
  let token = -1;
  for (;;) {
    const r = await gen.next();
    if (r.done) {
      const st = r.value.stats;
      return { ms: st.prefill_ms, computed: st.prompt_tokens - st.reused_tokens, token: r.value.ids[0] ?? token };
    }
    token = r.value.ids[0] ?? token;
  }
}

async function main(): Promise<void> {
  const nTokens = flag('tokens', 500);
  const repeat = flag('repeat', 5);
  const threads = flag('threads', 0);
  const root = packageRoot();
  const { model: dir } = defaultModelDirs();
  const model = await Model.load(dir, { backend: 'cpu', ...(threads > 0 ? { threads } : {}) });
  const tok = await Tokenizer.load(dir);
  const block = model.kvPool().blockBytes;
  const budget = 64 * 1024 * 1024;
  const ways = ['cold', 'publish', 'dropped', 'alike'] as const;
  const ms: Record<(typeof ways)[number], number[]> = { cold: [], publish: [], dropped: [], alike: [] };
  const computed: Record<(typeof ways)[number], number[]> = { cold: [], publish: [], dropped: [], alike: [] };
  let mismatches = 0;
  const ctx = { maxContext: nTokens + 64 };
  for (let r = 0; r < repeat; r++) {
    for (const [k, f] of MULTI_FILES.entries()) {
      // the three files one after another, starting with file k (they are short)
      const text = [0, 1, 2].map((j) => readFileSync(join(root, 'fixtures', 'workspace', 'src', MULTI_FILES[(k + j) % 3]!), 'utf8')).join('\n');
      const ids = tok.encode(text, { addSpecialTokens: false });
      if (ids.length < nTokens + 1) throw new Error(`the files from ${f} on have only ${ids.length} tokens`);
      const prompt = ids.slice(0, nTokens);
      const typed = ids.slice(0, nTokens + 1);  // the next token typed
      const run = async (way: (typeof ways)[number], s: Session, p: Int32Array, want: number | null): Promise<number> => {
        const x = await prefill(s, p);
        ms[way].push(x.ms);
        computed[way].push(x.computed);
        if (want !== null && x.token !== want) mismatches++;
        return x.token;
      };
      // cold: the reference token
      model.setKvPool(0);
      const s = model.createSession(ctx);
      const wantTyped = await run('cold', s, typed, null);
      s.dispose();
      // publish: pool on, empty
      model.setKvPool(budget);
      const a = model.createSession(ctx);
      await run('publish', a, prompt, null);
      // alike: a holds the prompt; a fresh session with one more token
      const b = model.createSession(ctx);
      await run('alike', b, typed, wantTyped);
      b.dispose();
      a.dispose();
      // dropped: the pool keeps what the freed sessions held; start from the prompt's blocks only
      model.setKvPool(0);
      model.setKvPool(budget);
      const c = model.createSession(ctx);
      await prefill(c, prompt);
      c.dispose();
      const d = model.createSession(ctx);
      await run('dropped', d, typed, wantTyped);
      d.dispose();
    }
  }
  const p = model.kvPool();
  const lines = [
    `shipped model ${dir}, ${model.info.threads} threads, prompts of ${nTokens} (+1) tokens from ${MULTI_FILES.join(' + ')} (rotated), ${repeat} repeats; block ${block} bytes`,
    ...ways.map((w) => `${w.padEnd(8)} prefill median ${median(ms[w]).toFixed(1)} ms, tokens computed median ${median(computed[w])}`),
    `cold / dropped ${(median(ms.cold) / median(ms.dropped)).toFixed(1)}x, cold / alike ${(median(ms.cold) / median(ms.alike)).toFixed(1)}x, publish / cold ${(median(ms.publish) / median(ms.cold)).toFixed(2)}x`,
    `tokens differing from cold: ${mismatches}; pool at the end: ${p.blocks} blocks, ${p.bytes} bytes, ${p.hits} blocks found`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  model.dispose();
  if (mismatches > 0) process.exitCode = 1;
}

void main();
