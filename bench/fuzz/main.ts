/**
 * `slipstream bench fuzz`: the structure-aware fuzzer. Starts `slipstream serve --port 0
 * --insecure-no-token` (so episodes reach the LSP layer with pre-initialize traffic; the token
 * check itself is test/e2e/shared-daemon.test.ts's) with the test-only slipstream/debug/document, and runs seeded episodes (episode.ts) on fresh TCP
 * connections, `--concurrency` at a time, until `--seconds` or `--episodes` is reached; the seed
 * traffic is a recording of `bench keystrokes` (fixtures/fuzz/keystrokes.jsonl). Prints the inputs
 * per class and every failure (crash, hang, -32603, reply to a notification, document mismatch);
 * exits 1 if there was any. `--only-episode I` re-runs one episode of a seed; `--failures DIR`
 * keeps the bytes each failing episode sent.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError, type ParsedArgs } from '../../server/src/cli/args.js';
import { existingDir, existingFile } from '../../server/src/cli/paths.js';
import { packageRoot } from '../../server/src/package-root.js';
import { shortPath } from '../lib/short-path.js';
import type { StatusResult } from '../../server/src/protocol.js';
import { mulberry32 } from '../../server/src/mulberry32.js';
import { spawnTcp } from '../lib/rpc-client.js';
import { parseCorpus } from './corpus.js';
import { Episode, INPUT_CLASSES, type Failure, type InputClass } from './episode.js';

/** An answer owed for longer than this is a hang (a mutated debounce may be 5 s, the engine is shared). */
const HANG_MS = 30_000;

export interface FuzzResult {
  date: string;
  model: string;
  corpus: string;
  seed: number;
  concurrency: number;
  seconds: number;
  episodes: number;
  bytes_sent: number;
  inputs: Record<InputClass, number>;
  total_inputs: number;
  crashes: number;
  hangs: number;
  internal_errors: number;
  replies_to_notifications: number;
  document_mismatches: number;
  other_failures: number;
  rss_mb: { start: number | null; max: number | null; end: number | null };
  failures: (Failure & { episode: number })[];
}

type Server = Awaited<ReturnType<typeof spawnTcp>>;

export async function runFuzzBench(args: ParsedArgs): Promise<number> {
  const f = args.flags;
  const root = packageRoot();
  const model = existingDir('model', (f.model as string | undefined) ?? join(root, 'fixtures', 'models', 'stories260K'));
  const corpusFile = existingFile('--corpus', (f.corpus as string | undefined) ?? join(root, 'fixtures', 'fuzz', 'keystrokes.jsonl'));
  const seed = (f.seed as number | undefined) ?? 1;
  const concurrency = (f.concurrency as number | undefined) ?? 2;
  const only = f['only-episode'] as number | undefined;
  const maxEpisodes = only !== undefined ? 1 : ((f.episodes as number | undefined) ?? Infinity);
  const seconds = (f.seconds as number | undefined) ?? (f.episodes === undefined && only === undefined ? 60 : Infinity);
  if (!Number.isFinite(seconds) && !Number.isFinite(maxEpisodes)) throw new UsageError('fuzz needs --seconds or --episodes');
  const corpus = parseCorpus(readFileSync(corpusFile, 'utf8'));
  const failuresDir = f.failures === undefined ? null : resolve(f.failures as string);
  const log = (s: string): void => void process.stderr.write(`${s}\n`);

  const env = { ...process.env, SLIPSTREAM_DEBUG_METHODS: '1' };
  const start = (): Promise<Server> => spawnTcp(['--model', model, '--insecure-no-token'], env);
  let server = await start();
  const inputs = Object.fromEntries(INPUT_CLASSES.map((c) => [c, 0])) as Record<InputClass, number>;
  const failures: FuzzResult['failures'] = [];
  const rss: number[] = [];
  let crashes = 0;
  let episodes = 0;
  let bytes = 0;
  let next = only ?? 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  log(`bench fuzz: seed ${seed}, ${Number.isFinite(seconds) ? `${seconds} s` : `${maxEpisodes} episodes`}, concurrency ${concurrency}, model ${model}`);

  const sampleRss = async (): Promise<void> => {
    try {
      const { client, socket } = await server.connect();
      await client.initialize();
      rss.push((await client.request<StatusResult>('slipstream/status')).process.rssBytes);
      socket.destroy();
    } catch {
      // the server is restarting: no sample
    }
  };
  await sampleRss();
  const sampler = setInterval(() => void sampleRss(), 5000);

  const worker = async (): Promise<void> => {
    while (episodes < maxEpisodes && performance.now() < deadline) {
      const index = next++;
      episodes++;
      const rng = mulberry32((Math.imul(seed, 0x9e3779b1) + index) >>> 0);
      const episode = new Episode(rng, corpus, `e${index}`, HANG_MS);
      const current = server;
      let result;
      try {
        result = await episode.run(async () => (await current.connect()).socket);
      } catch (err) {
        result = { inputs: {}, sent: [], failures: [{ kind: 'unexpected-answer' as const, detail: `e${index}: ${(err as Error).message}` }] };
      }
      for (const [c, n] of Object.entries(result.inputs)) inputs[c as InputClass] += n;
      for (const b of result.sent) bytes += b.length;
      const own = result.failures.map((x) => ({ ...x, episode: index }));
      if (current.child.exitCode !== null || current.child.signalCode !== null) {
        if (server === current) {
          crashes++;
          own.push({ kind: 'unexpected-answer', detail: `e${index}: the server exited (${current.child.exitCode ?? current.child.signalCode}): ${current.stderr().slice(-2000)}`, episode: index });
          server = await start();
        }
      }
      if (own.length > 0) {
        failures.push(...own);
        for (const x of own) log(`FAIL ${x.kind}: ${x.detail}`);
        if (failuresDir) {
          mkdirSync(failuresDir, { recursive: true });
          writeFileSync(join(failuresDir, `seed${seed}-e${index}.bin`), Buffer.concat(result.sent));
        }
      }
    }
  };
  await Promise.all(Array.from({ length: only !== undefined ? 1 : concurrency }, worker));
  clearInterval(sampler);
  await sampleRss();
  const stderr = server.stderr();
  if (stderr.includes('internal error')) failures.push({ kind: 'internal-error', detail: `server stderr: ${stderr.slice(stderr.indexOf('internal error') - 200, stderr.indexOf('internal error') + 2000)}`, episode: -1 });
  server.kill();

  const count = (k: Failure['kind']): number => failures.filter((x) => x.kind === k).length;
  const mb = (x: number | undefined): number | null => (x === undefined ? null : Math.round(x / 1e5) / 10);
  const result: FuzzResult = {
    date: new Date().toISOString(),
    model: shortPath(model),
    corpus: shortPath(corpusFile),
    seed,
    concurrency,
    seconds: Math.round((performance.now() - started) / 100) / 10,
    episodes,
    bytes_sent: bytes,
    inputs,
    total_inputs: Object.values(inputs).reduce((a, b) => a + b, 0),
    crashes,
    hangs: count('hang'),
    internal_errors: count('internal-error'),
    replies_to_notifications: count('reply-to-notification') + count('second-reply'),
    document_mismatches: count('document-mismatch'),
    other_failures: count('unexpected-answer') - crashes,
    rss_mb: { start: mb(rss[0]), max: rss.length > 0 ? mb(Math.max(...rss)) : null, end: mb(rss.at(-1)) },
    failures,
  };
  process.stdout.write(formatFuzz(result));
  if (f.out !== undefined) writeFileSync(f.out as string, `${JSON.stringify(result, null, 2)}\n`);
  return failures.length === 0 ? 0 : 1;
}

export function formatFuzz(r: FuzzResult): string {
  const rows = INPUT_CLASSES.map((c) => `  ${c.padEnd(30)}${String(r.inputs[c]).padStart(8)}`);
  return [
    `fuzz: ${r.episodes} episodes, ${r.total_inputs} inputs, ${(r.bytes_sent / 1e6).toFixed(1)} MB sent in ${r.seconds} s (seed ${r.seed}, concurrency ${r.concurrency})`,
    ...rows,
    `crashes ${r.crashes}, hangs ${r.hangs}, internal errors ${r.internal_errors}, replies to notifications ${r.replies_to_notifications}, document mismatches ${r.document_mismatches}, other ${r.other_failures}`,
    `server RSS: ${r.rss_mb.start} MB at the start, ${r.rss_mb.max} MB at most, ${r.rss_mb.end} MB at the end`,
    '',
  ].join('\n');
}
