/**
 * `slipstream bench alternatives`: what an invoked completion with alternatives (completion.alternatives,
 * server/src/completion/alternatives.ts) costs the developer who asks for them (VS Code: Alt+] or
 * Trigger Inline Suggestion). At seeded line ends of three files of fixtures/workspace (each file whole),
 * the client asks as typing does (automatic, untimed: the ghost text a developer sees first), then
 * invoked, timed: the answer with its alternatives. After a request per file outside the
 * measurement (the model loaded, each file's session filled), --rounds timed rounds over the same
 * spots: in the first, an invoked request computes its first suggestion unless the automatic one
 * before it was whole (then the suggestion cache has it); in later rounds the cache has the first
 * round's. Reports the latency of the invoked answers that held a suggestion (an empty first
 * suggestion asks for no alternatives), the `alternatives` stage of their traces (the alternatives
 * alone), the server's time for those whose first suggestion was computed and for those that found
 * it in the cache, how many items the answers held, and a digest of every list, so two builds can be
 * compared for speed with the same output (the alternatives' seeds are fixed). The files are opened
 * from a copy in a fixed scratch folder, so two checkouts' runs send the same prompts (a snippet from
 * another open file names its path). With --remote URL the server runs engine.backend "remote"
 * against that serving engine (--remote-api, default llama-server; --model gives the tokenizer, the
 * shipped model by default; no drafter).
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError, type ParsedArgs } from '../server/src/cli/args.js';
import { existingDir } from '../server/src/cli/paths.js';
import { defaultModelDirs } from '../server/src/completion/default-model.js';
import { packageRoot } from '../server/src/package-root.js';
import { latencySummary, planLineEnds, type LatencySummary } from './keystroke-plan.js';
import { MULTI_FILES } from './keystrokes-multi.js';
import { LspClient } from './lib/lsp-client.js';
import { Docs } from './lib/lsp-docs.js';

export interface AlternativesResult {
  spots: number;
  rounds: number;
  /** Invoked answers timed (spots x rounds). */
  answers: number;
  /** The timed answers that held a suggestion (an empty first suggestion asks for no alternatives). */
  with_items: number;
  /** Those answers' latency. */
  invoked_ms: LatencySummary;
  /** The invoked traces' `alternatives` stage: the alternatives after the first item. */
  alternatives_stage_ms: LatencySummary;
  /** The answers with alternatives, as the server timed them (their traces): the first suggestion computed, or from the cache. */
  first_computed: { answers: number; ms: LatencySummary | null };
  first_cached: { answers: number; ms: LatencySummary | null };
  /** How many answers held 0, 1, 2, ... items. */
  items: number[];
  /** sha256 of every round's lists, in order: equal digests, equal output. */
  lists_digest: string;
  /** Whether every timed round gave the same lists. */
  same_every_round: boolean;
}

export async function runAlternativesBench(args: ParsedArgs): Promise<number> {
  const f = args.flags;
  const shipped = defaultModelDirs();
  const modelDir = existingDir('model', (f.model as string | undefined) ?? shipped.model);
  const remote = f.remote as string | undefined;
  const api = (f['remote-api'] as string | undefined) ?? 'llama-server';
  if (api !== 'llama-server' && api !== 'openai') throw new UsageError(`--remote-api: expected openai or llama-server, got "${api}"`);
  const drafterDir = f.drafter !== undefined ? existingDir('drafter', f.drafter as string) : f.model === undefined && !remote ? existingDir('drafter', shipped.drafter) : null;
  const scratch = join(tmpdir(), 'slipstream-bench-alternatives');
  mkdirSync(scratch, { recursive: true });
  const files = MULTI_FILES.map((x) => {
    const copy = join(scratch, x);
    copyFileSync(resolve(packageRoot(), 'fixtures', 'workspace', 'src', x), copy);
    return copy;
  });
  const texts = files.map((x) => readFileSync(x, 'utf8'));
  const spots = planLineEnds(texts, (f.spots as number | undefined) ?? 18, (f.seed as number | undefined) ?? 1);
  const rounds = (f.rounds as number | undefined) ?? 2;
  const client = new LspClient(['--model', modelDir, ...(drafterDir ? ['--drafter', drafterDir] : []), ...(f.weights !== undefined ? ['--weights', f.weights as string] : [])]);
  const docs = new Docs(client);
  const uris = files.map((x) => pathToFileURL(x).href);
  process.stderr.write(`bench alternatives: ${spots.length} line ends over ${MULTI_FILES.join(', ')}, ${rounds} timed rounds${remote ? `, remote engine ${remote} (${api})` : ''}\n`);
  try {
    await client.initialize({
      completion: { debounceMs: 0 },
      cache: { prefetch: false },
      trace: { capacity: 100000 },
      ...(remote ? { engine: { backend: 'remote', remote: { url: remote, api } } } : {}),
    });
    for (const [d, uri] of uris.entries()) {
      await docs.open(uri, texts[d]!);
      await docs.complete(uri, texts[d]!.length, 2); // outside the measurement: load, fill each session
    }
    const before = (await client.traces(0)).reduce((m, t) => Math.max(m, t.id), 0);
    const lists: string[][][] = [];
    const ms: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const got: string[][] = [];
      for (const s of spots) {
        await docs.complete(uris[s.doc]!, s.offset, 2);
        const { list, ms: took } = await docs.complete(uris[s.doc]!, s.offset, 1);
        got.push((list?.items ?? []).map((i) => (typeof i.insertText === 'string' ? i.insertText : i.insertText.value)));
        if (got.at(-1)!.length > 0) ms.push(took);
      }
      lists.push(got);
    }
    const invoked = (await client.traces(before)).filter((t) => t.trigger === 'invoked' && t.stages.alternatives !== undefined);
    const stage = invoked.map((t) => t.stages.alternatives!);
    const split = (computed: boolean): AlternativesResult['first_computed'] => {
      const x = invoked.filter((t) => (t.cacheHit === 'none') === computed).map((t) => t.totalMs);
      return { answers: x.length, ms: x.length > 0 ? latencySummary(x) : null };
    };
    const items: number[] = [];
    for (const l of lists.flat()) items[l.length] = (items[l.length] ?? 0) + 1;
    const result: AlternativesResult = {
      spots: spots.length,
      rounds,
      answers: spots.length * rounds,
      with_items: ms.length,
      invoked_ms: latencySummary(ms.length > 0 ? ms : [0]),
      alternatives_stage_ms: latencySummary(stage.length > 0 ? stage : [0]),
      first_computed: split(true),
      first_cached: split(false),
      items: Array.from(items, (n) => n ?? 0),
      lists_digest: createHash('sha256').update(JSON.stringify(lists)).digest('hex').slice(0, 16),
      same_every_round: lists.every((l) => JSON.stringify(l) === JSON.stringify(lists[0])),
    };
    process.stdout.write(formatAlternatives(result));
    if (f.out !== undefined) writeFileSync(f.out as string, `${JSON.stringify(result, null, 2)}\n`);
    return result.same_every_round ? 0 : 1;
  } finally {
    await client.close();
  }
}

export function formatAlternatives(r: AlternativesResult): string {
  const s = (l: LatencySummary): string => `p50 ${l.p50.toFixed(1)} ms, p90 ${l.p90.toFixed(1)} ms, max ${l.max.toFixed(1)} ms`;
  return [
    `invoked answers: ${r.answers} (${r.spots} spots x ${r.rounds} rounds)`,
    `  latency of the ${r.with_items} with a suggestion: ${s(r.invoked_ms)}`,
    `  alternatives stage: ${s(r.alternatives_stage_ms)}`,
    `  server time, first suggestion computed (${r.first_computed.answers}): ${r.first_computed.ms ? s(r.first_computed.ms) : '-'}`,
    `  server time, first suggestion from the cache (${r.first_cached.answers}): ${r.first_cached.ms ? s(r.first_cached.ms) : '-'}`,
    `  items per answer (0, 1, 2, ...): ${r.items.join(', ')}`,
    `lists digest ${r.lists_digest}; the same every round: ${r.same_every_round ? 'yes' : 'no'}`,
    '',
  ].join('\n');
}
