/**
 * Where traces are kept: the ring behind slipstream/traces is bounded and filters by id, document
 * and time; the trace file is JSON lines, rotated to FILE.1 at its bound (never more than twice
 * the bound on disk), shared by connections naming one path, and a file that cannot be written is
 * reported once and fails nothing. Also the checks of a client's trace fields.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TraceLog } from '../../../server/src/completion/traces.js';
import { defaultSettings } from '../../../server/src/config.js';
import { checkClientTrace } from '../../../server/src/trace/client-trace.js';
import { openTraceFile } from '../../../server/src/trace/trace-file.js';

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'slipstream-trace-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const settings = (over: Partial<ReturnType<typeof defaultSettings>['trace']>) => ({ ...defaultSettings().trace, ...over });
const immediate = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('the ring', () => {
  it('keeps the last `capacity` traces and filters by id, document, time and limit', () => {
    const log = new TraceLog();
    log.configure(settings({ capacity: 5 }));
    for (let i = 0; i < 23; i++) {
      const t = log.start(i % 2 === 0 ? 'file:///a.ts' : 'file:///b.ts', i, 'automatic', { receivedAt: 1000 + i });
      log.finish(t, 'shown');
    }
    expect(log.traces().map((t) => t.id)).toEqual([19, 20, 21, 22, 23]);
    expect(log.traces({ uri: 'file:///a.ts' }).map((t) => t.id)).toEqual([19, 21, 23]);
    expect(log.traces({ since: 1021 }).map((t) => t.id)).toEqual([22, 23]);
    expect(log.traces({ after: 20, limit: 2 }).map((t) => t.id)).toEqual([22, 23]);
    expect(log.counts.total).toBe(23);
    log.configure(settings({ capacity: 0 }));
    log.finish(log.start('u', 1, 'automatic'), 'shown');
    expect(log.traces()).toEqual([]);
  });
});

describe('the trace file', () => {
  it('appends one JSON line per request and rotates at its bound', async () => {
    const dir = tmp();
    const path = join(dir, 'traces.jsonl');
    const log = new TraceLog();
    log.configure(settings({ file: path, fileMaxKB: 2 }));
    for (let i = 0; i < 40; i++) {
      const t = log.start('file:///src/a.ts', i, 'automatic');
      t.stage('receive');
      log.finish(t, 'shown');
    }
    await immediate();
    await log.close();
    const lines = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const older = readFileSync(`${path}.1`, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(statSync(path).size).toBeLessThanOrEqual(2048);
    expect(statSync(`${path}.1`).size).toBeLessThanOrEqual(2048);
    // the newest traces, in order, whole lines only
    const ids = [...older, ...lines].map((t) => t.id);
    expect(ids.at(-1)).toBe(40);
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, k) => 41 - ids.length + k));
    expect(lines[0].spans.children[0].name).toBe('receive');
  });

  it('is shared by handles naming one path and lines never interleave', () => {
    const dir = tmp();
    const path = join(dir, 't.jsonl');
    const a = openTraceFile(path, 1 << 20, () => {});
    const b = openTraceFile(`${dir}/./sub/../t.jsonl`, 1 << 20, () => {});
    expect(b.path).toBe(a.path);
    for (let i = 0; i < 50; i++) (i % 2 ? a : b).write(JSON.stringify({ i, pad: 'x'.repeat(500) }));
    a.close();
    b.write('{"last":true}');
    b.close();
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(51);
    expect(lines.map((l) => JSON.parse(l).i ?? 'last')).toEqual([...Array.from({ length: 50 }, (_, i) => i), 'last']);
  });

  it('that cannot be written is reported once and fails nothing', async () => {
    const warnings: string[] = [];
    const log = new TraceLog((m) => warnings.push(m));
    const path = join(tmp(), 'no', 'such', 'dir', 't.jsonl');
    log.configure(settings({ file: path }));
    for (let i = 0; i < 3; i++) expect(log.finish(log.start('u', i, 'automatic'), 'shown').outcome).toBe('shown');
    await immediate();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(path);
    expect(existsSync(path)).toBe(false);
    await log.close();
  });
});

describe("a client's trace fields", () => {
  const now = 1_800_000_000_000;
  it('keeps what is well formed', () => {
    expect(checkClientTrace({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', keystrokeAt: now - 12.5 }, now)).toEqual({
      client: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', keystrokeAt: now - 12.5, editorMs: 12.5 },
      problems: [],
    });
    expect(checkClientTrace(undefined, now)).toEqual({ client: undefined, problems: [] });
  });

  it.each([
    ['a string', 'x', 'not an object'],
    ['an array', [1], 'not an object'],
    ['a long id', { traceId: 'a'.repeat(65) }, 'traceId'],
    ['an id with a space', { traceId: 'a b' }, 'traceId'],
    ['a numeric id', { traceId: 42 }, 'traceId'],
    ['a bad span id', { spanId: 'xyz' }, 'spanId'],
    ['an all-zero span id', { spanId: '0000000000000000' }, 'spanId'],
    ['a keystroke in the future', { keystrokeAt: now + 5000 }, 'keystrokeAt'],
    ['a keystroke an hour ago', { keystrokeAt: now - 3_600_000 }, 'keystrokeAt'],
    ['a keystroke that is not a number', { keystrokeAt: '12:00' }, 'keystrokeAt'],
    ['NaN', { keystrokeAt: Number.NaN }, 'keystrokeAt'],
  ])('ignores %s (never an error)', (_what, raw, problem) => {
    const r = checkClientTrace(raw, now);
    expect(r.client).toBeUndefined();
    expect(r.problems.join(' ')).toContain(problem);
  });

  it('keeps the good fields beside a bad one', () => {
    expect(checkClientTrace({ traceId: 'editor-17', keystrokeAt: 'soon' }, now).client).toEqual({ traceId: 'editor-17' });
  });
});
