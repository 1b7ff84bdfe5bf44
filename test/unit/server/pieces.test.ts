/**
 * The small pure pieces of the server: position-encoding conversion, settings merging and
 * validation, the adaptive debounce, the FIFO engine lock, snippet
 * choice, and the demo's typing plan.
 */
import { describe, expect, it } from 'vitest';
import { applySettings, defaultSettings } from '../../../server/src/config.js';
import { AdaptiveDebouncer, wait } from '../../../server/src/completion/debouncer.js';
import { KEYS_KEPT } from '../../../server/src/completion/keys-kept.js';
import { Mutex } from '../../../server/src/completion/mutex.js';
import { SnippetIndex } from '../../../server/src/completion/snippets.js';
import { acceptance, requestPoints, thin } from '../../../bench/demo/plan.js';
import { fromUtf16Column, negotiateEncoding, toUtf16Column } from '../../../server/src/position-encoding.js';

describe('position encodings', () => {
  const line = 'é😀b';
  it.each([
    ['utf-8', 2, 1],
    ['utf-8', 6, 3],
    ['utf-8', 7, 4],
    ['utf-32', 2, 3],
    ['utf-16', 3, 3],
  ] as const)('maps %s column %i to UTF-16 column %i and back', (enc, col, utf16) => {
    expect(toUtf16Column(line, col, enc)).toBe(utf16);
    expect(fromUtf16Column(line, utf16, enc)).toBe(col);
  });

  it('stays before a code point when a UTF-8 column falls inside it', () => {
    expect(toUtf16Column(line, 4, 'utf-8')).toBe(1);
  });

  it('counts a lone surrogate as one code point of three UTF-8 bytes', () => {
    expect(fromUtf16Column('\ud800x', 2, 'utf-8')).toBe(4);
  });

  it('prefers the first supported encoding the client offers', () => {
    expect(negotiateEncoding(['utf-32', 'utf-8'])).toBe('utf-32');
    expect(negotiateEncoding(undefined)).toBe('utf-16');
  });
});

describe('settings', () => {
  it('merges nested, wrapped and dotted names, rejects bad values with a named warning and skips the client-side server.* settings', () => {
    const { settings, warnings } = applySettings(defaultSettings(), {
      slipstream: { completion: { maxTokens: 10 } },
      'slipstream.engine.backend': 'cpu',
      'completion.multiline': 'sometimes',
      bogus: 1,
      server: { command: ['node', 'slipstream.js'] },  // the VS Code extension's own setting: no warning
    });
    expect(settings.completion.maxTokens).toBe(10);
    expect(settings.engine.backend).toBe('cpu');
    expect(settings.completion.multiline).toBe('auto');
    expect(warnings).toEqual([
      'setting slipstream.completion.multiline = "sometimes" ignored: expected "auto", "always" or "never"',
      'unknown setting slipstream.bogus ignored',
    ]);
  });
});

describe('adaptive debounce', () => {
  it('uses the cap until it knows the typing speed and the engine latency', () => {
    expect(new AdaptiveDebouncer().delay(80)).toBe(80);
  });

  it('shrinks to the engine latency when the engine is fast', () => {
    const d = new AdaptiveDebouncer();
    for (let t = 0; t <= 1000; t += 100) d.noteRequest('a', t);
    d.noteLatency(5);
    expect(d.delay(80)).toBe(5);
  });

  it('forgets the least recently used of more than KEYS_KEPT documents', () => {
    const d = new AdaptiveDebouncer();
    d.noteRequest('first', 0);
    for (let i = 0; i < KEYS_KEPT; i++) d.noteRequest(`other ${i}`, 0);
    d.noteRequest('first', 100); // its last request is forgotten: no typing interval from it
    d.noteLatency(5);
    expect(d.delay(80)).toBe(80);
    const kept = new AdaptiveDebouncer();
    kept.noteRequest('first', 0);
    kept.noteRequest('first', 100);
    kept.noteLatency(500);
    expect(kept.delay(200)).toBe(125);
  });

  it('waits out a typing burst when the engine is slow', () => {
    const d = new AdaptiveDebouncer();
    for (let t = 0; t <= 400; t += 40) d.noteRequest('a', t);
    d.noteLatency(500);
    expect(d.delay(200)).toBeCloseTo(50, 5);
  });

  it('rejects a wait with an AbortError when its signal aborts', async () => {
    const ac = new AbortController();
    const p = wait(60_000, ac.signal);
    ac.abort('superseded');
    await expect(p).rejects.toMatchObject({ name: 'AbortError', message: 'superseded' });
  });
});

describe('engine lock', () => {
  it('runs holders one at a time in order, and a waiter whose signal aborts leaves the queue', async () => {
    const m = new Mutex();
    const order: string[] = [];
    const r1 = await m.acquire();
    const ac = new AbortController();
    const second = m.acquire(ac.signal);
    const third = m.acquire().then((r) => {
      order.push('third');
      return r;
    });
    ac.abort('gone');
    await expect(second).rejects.toMatchObject({ name: 'AbortError' });
    order.push('first done');
    r1();
    (await third)();
    expect(order).toEqual(['first done', 'third']);
  });
});

describe('snippets', () => {
  it('picks the window of another same-language document that shares the most identifiers', () => {
    const idx = new SnippetIndex();
    const docs = [
      { uri: 'file:///a.ts', languageId: 'typescript', version: 1, getText: () => 'export function percentile(values: number[], p: number) {\n  return values[0];\n}' },
      { uri: 'file:///b.ts', languageId: 'typescript', version: 1, getText: () => 'const unrelated = true;' },
      { uri: 'file:///c.py', languageId: 'python', version: 1, getText: () => 'def percentile(values, p): pass' },
    ];
    const picked = idx.pick('file:///cur.ts', 'typescript', 'const p95 = percentile(values, ', docs);
    expect(picked.map((s) => s.uri)).toEqual(['file:///a.ts']);
  });
});

describe('demo typing plan', () => {
  it('requests at word boundaries and line starts, never inside indentation', () => {
    const text = 'let a = 1;\n  b();';
    const pts = requestPoints(text);
    expect(pts.map((p) => text.slice(0, p).split('\n').at(-1))).toEqual(['let', 'let ', 'let a', 'let a = ', 'let a = 1', '', '  b', '  b(']);
    expect(thin([1, 2, 3, 4, 5, 6], 3)).toEqual([1, 3, 5]);
  });

  it('accepts a suggestion whole, in part at a word end, or not at all', () => {
    expect(acceptance('entries.get(key)', 'entries.get(key);\n')).toEqual({ kind: 'full', length: 16 });
    expect(acceptance('entries.has(k)', 'entries.get(key)')).toEqual({ kind: 'partial', length: 8 });
    expect(acceptance('foo', 'bar')).toEqual({ kind: 'none' });
  });
});
