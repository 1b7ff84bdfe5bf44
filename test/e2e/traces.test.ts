/**
 * Tracing end to end with the real server and the shipped model: every request's span tree nests
 * and adds up (the engine's queue, prefill and decode rounds included), the trace file holds
 * exactly the traces slipstream/traces serves, and `slipstream trace` summarises that file, draws
 * it (SVG, HTML), converts it to Chrome trace JSON that follows the trace-event format and reads
 * that back; bad input is a clear error.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LspClient } from '../../bench/lib/lsp-client.js';
import type { RequestTrace } from '../../server/src/protocol.js';
import { nowMs } from '../../server/src/trace/clock.js';
import { STAGES } from '../../server/src/trace/stages.js';
import { repoRoot } from '../helpers/paths.js';
import { runCli } from '../helpers/run-cli.js';
import { checkTree } from '../helpers/span-checks.js';
import { traceEventProblems } from '../helpers/trace-event-format.js';

const tmp = mkdtempSync(join(tmpdir(), 'slipstream-traces-'));
const file = join(tmp, 'traces.jsonl');
const source = readFileSync(join(repoRoot, 'fixtures', 'workspace', 'src', 'lru-cache.ts'), 'utf8');
let served: RequestTrace[] = [];

const run = runCli;

beforeAll(async () => {
  // the shipped pair, typing a few characters of a line back, as an editor would
  const c = new LspClient([]);
  try {
    await c.initialize({ engine: { mode: 'redrafter' }, completion: { debounceMs: 0 }, trace: { file } });
    const uri = pathToFileURL(join(tmp, 'lru-cache.ts')).href;
    const at = source.indexOf('  get(');
    const typed = source.slice(at, at + 6);
    await c.open(uri, 'typescript', source.slice(0, at) + source.slice(at + typed.length));
    let cursor = at;
    for (const ch of typed) {
      const keystrokeAt = nowMs();
      await c.edit(cursor, cursor, ch);
      cursor += 1;
      await c.inlineCompletion(cursor, 'automatic', { clientTrace: { traceId: `e2e-${cursor}`, keystrokeAt } });
    }
    served = await c.traces(0);
  } finally {
    await c.close(); // shutdown: the trace file is written and closed
  }
}, 120_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('traces of the real engine', () => {
  it('nest and add up, with the queue, prefill and decode rounds of the engine', () => {
    expect(served).toHaveLength(6);
    for (const t of served) checkTree(t);
    const engine = served.filter((t) => t.stages.prefill !== undefined);
    expect(engine.length).toBeGreaterThan(0);
    for (const t of engine) {
      const names = t.spans!.children!.map((c) => c.name);
      expect(names.slice(0, 8)).toEqual(['receive', 'cache', 'debounce', 'load', 'context', 'tokenize', 'queue', 'prefill']);
      const prefill = t.spans!.children!.find((c) => c.name === 'prefill')!;
      expect(prefill.attrs!.computedTokens! as number + (prefill.attrs!.reusedTokens as number)).toBe(t.promptTokens);
      const decode = t.spans!.children!.find((c) => c.name === 'decode');
      if (decode) for (const r of decode.children ?? []) expect(r.attrs).toMatchObject({ mode: 'redrafter' });
    }
    for (const t of served) expect(t.client?.traceId).toMatch(/^e2e-\d+$/);
  });

  it('the trace file holds the traces slipstream/traces serves, one JSON line each', () => {
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as RequestTrace);
    expect(lines.slice(-served.length)).toEqual(served);
  });
});

describe('slipstream trace', () => {
  it('prints the stage table and the slowest requests, and writes the SVG, HTML and Chrome trace', async () => {
    const svg = join(tmp, 'r.svg');
    const html = join(tmp, 'r.html');
    const chrome = join(tmp, 'r.json');
    const r = await run('trace', file, '--top', '3', '--svg', svg, '--html', html, '--chrome', chrome);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^traces\.jsonl \(JSON lines\)\n\d+ requests: \d+ answered/);
    expect(r.stdout).toMatch(/stage\s+count\s+p50 ms\s+p95 ms\s+p99 ms\s+max ms\s+share/);
    for (const stage of ['receive', 'prefill', 'decode', 'respond']) expect(r.stdout).toMatch(new RegExp(`^${stage}\\s+\\d+`, 'm'));
    expect(r.stdout).toContain('slowest 3 requests:');
    expect(XMLValidator.validate(readFileSync(svg, 'utf8'))).toBe(true);
    expect(readFileSync(html, 'utf8')).toContain('<svg xmlns');
    const json = JSON.parse(readFileSync(chrome, 'utf8'));
    expect(traceEventProblems(json)).toEqual([]);
    const ran = new Set(json.traceEvents.filter((e: { ph: string }) => e.ph === 'X').map((e: { name: string }) => e.name));
    for (const stage of STAGES) if (served.some((t) => t.stages[stage] !== undefined)) expect(ran.has(stage)).toBe(true);
    // the Chrome file reads back to the same figures
    const again = await run('trace', chrome, '--json');
    const first = await run('trace', file, '--json');
    expect(again.code).toBe(0);
    const [a, b] = [JSON.parse(first.stdout), JSON.parse(again.stdout)];
    expect(b.requests).toBe(a.requests);
    expect(b.slowest).toEqual(a.slowest);
    expect(b.total.p50).toBeCloseTo(a.total.p50, 2);
  });

  it('says clearly what is wrong with its input', async () => {
    const bad = join(tmp, 'bad.jsonl');
    writeFileSync(bad, 'not a trace\n');
    expect(await run('trace', bad)).toMatchObject({ code: 1, stdout: '', stderr: 'slipstream trace: no request trace in 1 line(s): not a Slipstream trace file\n' });
    expect(await run('trace', join(tmp, 'absent.jsonl'))).toMatchObject({ code: 2, stderr: `slipstream trace: FILE: no such file: ${join(tmp, 'absent.jsonl')}\n` });
    expect((await run('trace')).code).toBe(2);
  });
});
