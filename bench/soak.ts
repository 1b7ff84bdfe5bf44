/**
 * `slipstream bench soak --model DIR [--minutes M] [--clients N]`: a long replay against one
 * `slipstream serve --port 0` (one engine, typing-through cache and KV reuse on). First one client
 * types the plan alone, twice (the reference answers); then N TCP clients type it at once, over and
 * over, for M minutes: at seeded spots of several documents they delete a few characters and type
 * them back, one inline completion per keystroke, each waiting for its answer. Every answer must be
 * the reference's for the same document, cursor and visit: the server keeps per-document state (the
 * prompt window's start, the typing-through cache), so a document's first visit is compared with
 * the reference's first pass and later visits with its second. Every --sample-seconds the server's RSS, heap
 * and engine bytes (slipstream/status) are sampled. Writes per-client latency percentiles, the
 * samples and the RSS slope (MB per hour, least squares over the samples after a warm-up of a
 * tenth of the run); --out JSON, drawn by bench/soak-plot.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InlineCompletionList } from 'vscode-languageserver';
import type { ParsedArgs } from '../server/src/cli/args.js';
import { modelDirsFromFlags } from '../server/src/cli/paths.js';
import { packageRoot } from '../server/src/package-root.js';
import { shortPath } from './lib/short-path.js';
import type { StatusResult } from '../server/src/protocol.js';
import { latencySummary, planSpots, type LatencySummary, type Spot } from './keystroke-plan.js';
import { positionOf } from './lib/lsp-client.js';
import { spawnTcp, type RpcClient } from './lib/rpc-client.js';

/** The documents every client types in (files of any checkout). */
export const DOCUMENTS = ['fixtures/workspace/src/lru-cache.ts', 'fixtures/workspace/src/stats.ts', 'server/src/completion/debouncer.ts'];

export interface SoakSample {
  t_s: number;
  rss_bytes: number;
  heap_used_bytes: number;
  engine_weight_bytes: number | null;
  engine_kv_bytes: number | null;
  requests: number;
}

export interface SoakClientResult {
  client: number;
  requests: number;
  /** Answers that differ from the reference answer for the same text and cursor. */
  mismatches: number;
  errors: number;
  latency_ms: LatencySummary | null;
}

export interface SoakResult {
  date: string;
  model: string;
  minutes: number;
  clients: number;
  documents: string[];
  spots_per_document: number;
  chars: number;
  reference_requests: number;
  samples: SoakSample[];
  per_client: SoakClientResult[];
  all_latency_ms: LatencySummary | null;
  rss_mb: { first: number; last: number; max: number };
  /** Least-squares slope of RSS over time after the first sample, MB per hour. */
  rss_slope_mb_per_hour: number | null;
  mismatch_examples: string[];
}

/** One editor stand-in over a TCP connection: its documents and their versions. */
class Typist {
  private readonly texts: string[] = [];
  private readonly versions: number[] = [];
  constructor(
    private readonly rpc: RpcClient,
    private readonly uris: string[],
  ) {}

  async start(originals: string[]): Promise<void> {
    await this.rpc.initialize({ completion: { debounceMs: 0 } });
    originals.forEach((text, i) => {
      this.texts[i] = text;
      this.versions[i] = 1;
      this.rpc.open(this.uris[i]!, text, 'typescript', 1);
    });
  }

  private edit(doc: number, start: number, end: number, insert: string): void {
    const text = this.texts[doc]!;
    const range = { start: positionOf(text, start), end: positionOf(text, end) };
    this.texts[doc] = text.slice(0, start) + insert + text.slice(end);
    this.rpc.notify('textDocument/didChange', { textDocument: { uri: this.uris[doc], version: ++this.versions[doc]! }, contentChanges: [{ range, text: insert }] });
  }

  /** Types one spot: deletes its characters, types them back one by one, asking after each. */
  async typeSpot(doc: number, spot: Spot, onAnswer: (k: number, answer: string | Error, ms: number) => void): Promise<void> {
    this.edit(doc, spot.offset, spot.offset + spot.typed.length, '');
    let cursor = spot.offset;
    for (const [k, ch] of [...spot.typed].entries()) {
      this.edit(doc, cursor, cursor, ch);
      cursor += ch.length;
      const sent = performance.now();
      try {
        const list = await this.rpc.request<InlineCompletionList | null>('textDocument/inlineCompletion', {
          textDocument: { uri: this.uris[doc], version: this.versions[doc] },
          position: positionOf(this.texts[doc]!, cursor),
          context: { triggerKind: 2 },
        });
        const item = list?.items[0];
        onAnswer(k, item === undefined ? '' : typeof item.insertText === 'string' ? item.insertText : item.insertText.value, performance.now() - sent);
      } catch (err) {
        onAnswer(k, err as Error, performance.now() - sent);
      }
    }
  }
}

export async function runSoakBench(args: ParsedArgs): Promise<number> {
  const f = args.flags;
  const model = modelDirsFromFlags(f).modelDir;
  const minutes = (f.minutes as number | undefined) ?? 30;
  const clients = (f.clients as number | undefined) ?? 4;
  const sampleS = (f['sample-seconds'] as number | undefined) ?? 60;
  const spotsPer = (f.spots as number | undefined) ?? 4;
  const chars = (f.chars as number | undefined) ?? 8;
  const root = packageRoot();
  const originals = DOCUMENTS.map((d) => readFileSync(join(root, d), 'utf8'));
  const uris = DOCUMENTS.map((d) => `file:///soak/${d}`);
  const spots = originals.map((text, doc) => planSpots(text, spotsPer, chars, 1 + doc));
  const log = (s: string): void => void process.stderr.write(`${s}\n`);

  const server = await spawnTcp(['--model', model]);
  try {
    // The reference: one client alone, two passes over the plan (a document's first visit and later ones).
    const reference = new Map<string, string>();
    const solo = await server.connect();
    const soloTypist = new Typist(solo.client, uris);
    await soloTypist.start(originals);
    for (const visit of ['first', 'later']) {
      for (let doc = 0; doc < originals.length; doc++) {
        for (const [s, spot] of spots[doc]!.entries()) {
          await soloTypist.typeSpot(doc, spot, (k, answer) => {
            if (answer instanceof Error) throw new Error(`the reference pass failed: ${answer.message}`);
            reference.set(`${visit}:${doc}:${s}:${k}`, answer);
          });
        }
      }
    }
    solo.socket.destroy();
    log(`bench soak: ${reference.size} reference answers; now ${clients} clients for ${minutes} min, sampling every ${sampleS} s`);

    const monitor = await server.connect();
    await monitor.client.initialize();
    const samples: SoakSample[] = [];
    const t0 = performance.now();
    let requests = 0;
    const sample = async (): Promise<void> => {
      const st = await monitor.client.request<StatusResult>('slipstream/status');
      samples.push({
        t_s: Math.round((performance.now() - t0) / 100) / 10,
        rss_bytes: st.process.rssBytes,
        heap_used_bytes: st.process.heapUsedBytes,
        engine_weight_bytes: st.engine.memory?.weightBytes ?? null,
        engine_kv_bytes: st.engine.memory?.kvBytes ?? null,
        requests,
      });
      const last = samples.at(-1)!;
      log(`  ${(last.t_s / 60).toFixed(1)} min: RSS ${(last.rss_bytes / 1e6).toFixed(1)} MB, engine ${(((last.engine_weight_bytes ?? 0) + (last.engine_kv_bytes ?? 0)) / 1e6).toFixed(1)} MB, ${requests} requests`);
    };
    await sample();
    const timer = setInterval(() => void sample(), sampleS * 1000);
    const deadline = t0 + minutes * 60_000;
    const mismatchExamples: string[] = [];
    const perClient = await Promise.all(
      Array.from({ length: clients }, async (_, c): Promise<SoakClientResult & { ms: number[] }> => {
        const conn = await server.connect();
        const typist = new Typist(conn.client, uris);
        await typist.start(originals);
        const out = { client: c, requests: 0, mismatches: 0, errors: 0, latency_ms: null, ms: [] as number[] };
        // each client starts at another document so they do not move in lockstep
        for (let round = 0; performance.now() < deadline; round++) {
          const doc = (c + round) % originals.length;
          const visit = round < originals.length ? 'first' : 'later';
          for (const [s, spot] of spots[doc]!.entries()) {
            if (performance.now() >= deadline) break;
            await typist.typeSpot(doc, spot, (k, answer, ms) => {
              out.requests++;
              requests++;
              if (answer instanceof Error) {
                out.errors++;
                if (mismatchExamples.length < 10) mismatchExamples.push(`client ${c}: ${answer.message}`);
                return;
              }
              out.ms.push(ms);
              const want = reference.get(`${visit}:${doc}:${s}:${k}`);
              if (answer !== want) {
                out.mismatches++;
                if (mismatchExamples.length < 10) mismatchExamples.push(`client ${c}, ${DOCUMENTS[doc]} spot ${s} key ${k}: got ${JSON.stringify(answer)}, reference ${JSON.stringify(want)}`);
              }
            });
          }
        }
        conn.socket.destroy();
        return out;
      }),
    );
    clearInterval(timer);
    await sample();
    monitor.socket.destroy();

    const rss = samples.map((s) => s.rss_bytes / 1e6);
    const result: SoakResult = {
      date: new Date().toISOString(),
      model: shortPath(model),
      minutes,
      clients,
      documents: DOCUMENTS,
      spots_per_document: spotsPer,
      chars,
      reference_requests: reference.size,
      samples,
      per_client: perClient.map(({ ms, ...c }) => ({ ...c, latency_ms: ms.length > 0 ? latencySummary(ms) : null })),
      all_latency_ms: perClient.some((c) => c.ms.length > 0) ? latencySummary(perClient.flatMap((c) => c.ms)) : null,
      rss_mb: { first: rss[0]!, last: rss.at(-1)!, max: Math.max(...rss) },
      rss_slope_mb_per_hour: slopePerHour(samples.filter((s) => s.t_s >= warmUpS(minutes, sampleS)).map((s) => [s.t_s, s.rss_bytes / 1e6])),
      mismatch_examples: mismatchExamples,
    };
    process.stdout.write(formatSoak(result));
    if (f.out !== undefined) writeFileSync(f.out as string, `${JSON.stringify(result, null, 2)}\n`);
    const bad = result.per_client.some((c) => c.mismatches > 0 || c.errors > 0 || c.requests === 0);
    return bad || server.child.exitCode !== null ? 1 : 0;
  } finally {
    server.kill();
  }
}

/** Samples before this are warm-up (code compiled, caches filled): a tenth of the run, at least one sample interval. */
function warmUpS(minutes: number, sampleS: number): number {
  return Math.max(sampleS, minutes * 6);
}

/** Least-squares slope of (seconds, MB) points, in MB per hour; null with fewer than 3 points. */
export function slopePerHour(points: [number, number][]): number | null {
  if (points.length < 3) return null;
  const n = points.length;
  const mx = points.reduce((a, p) => a + p[0], 0) / n;
  const my = points.reduce((a, p) => a + p[1], 0) / n;
  const sxx = points.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
  if (sxx === 0) return null;
  const sxy = points.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0);
  return (sxy / sxx) * 3600;
}

export function formatSoak(r: SoakResult): string {
  const lat = (l: LatencySummary | null): string => (l ? `${l.p50.toFixed(1)} / ${l.p90.toFixed(1)} / ${l.p99.toFixed(1)} / ${l.max.toFixed(1)} ms` : '-');
  const lines = [
    `soak: ${r.clients} clients for ${r.minutes} min, ${r.documents.length} documents, ${r.reference_requests} reference answers`,
    ...r.per_client.map((c) => `  client ${c.client}: ${c.requests} requests, ${c.mismatches} differ from the reference, ${c.errors} errors, latency p50/p90/p99/max ${lat(c.latency_ms)}`),
    `  all clients: latency p50/p90/p99/max ${lat(r.all_latency_ms)}`,
    `RSS ${r.rss_mb.first.toFixed(1)} MB at the start, ${r.rss_mb.last.toFixed(1)} MB at the end, ${r.rss_mb.max.toFixed(1)} MB at most; slope ${r.rss_slope_mb_per_hour === null ? '-' : `${r.rss_slope_mb_per_hour.toFixed(2)} MB/h`}`,
    ...r.mismatch_examples.map((m) => `  ${m}`),
    '',
  ];
  return lines.join('\n');
}
