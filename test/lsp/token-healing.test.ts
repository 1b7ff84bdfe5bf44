/**
 * Token healing through the in-process server on the shipped model and its drafter (#21): at an
 * indented line start (the line's code cut, the rest of the file kept after the cursor) and
 * mid-identifier, textDocument/inlineCompletion answers suggestions that do not begin with
 * whitespace, the trace records the healed tokens and bytes (none with the setting off), and
 * greedy ReDrafter gives the same healed suggestions as greedy plain decoding.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RequestTrace } from '../../server/src/protocol.js';
import { createPair, type LspPair } from '../helpers/lsp-pair.js';
import { shippedDrafter, shippedModel } from '../helpers/paths.js';

const model = shippedModel;
const drafter = shippedDrafter;

const SOURCE = [
  'export function clamp(x: number, lo: number, hi: number): number {',
  '    if (x < lo) {',
  '        return lo;',
  '    }',
  '    return Math.min(hi, Math.max(lo, x));',
  '}',
  '',
  'export class Stack<T> {',
  '\tprivate items: T[] = [];',
  '\tpush(item: T): void {',
  '\t\tthis.items.push(item);',
  '\t}',
  '\tpop(): T | undefined {',
  '\t\treturn this.items.pop();',
  '\t}',
  '}',
  '',
].join('\n');

interface Case {
  name: string;
  text: string;
  line: number;
  character: number;
  lineStart: boolean;
}

/** The file with line `line`'s code cut after `keep` characters of it (the cursor there). */
function cut(line: number, keep: (l: string) => number, name: string, lineStart: boolean): Case {
  const lines = SOURCE.split('\n');
  const l = lines[line]!;
  const at = keep(l);
  lines[line] = l.slice(0, at);
  return { name, text: lines.join('\n'), line, character: at, lineStart };
}

const indent = (l: string): number => l.length - l.trimStart().length;
const CASES: Case[] = [
  ...[1, 2, 4, 8, 9, 10, 13].map((n) => cut(n, indent, `line ${n} after its indentation`, true)),
  cut(4, (l) => indent(l) + 'retu'.length, 'line 4 inside "return"', false),
  cut(10, (l) => indent(l) + 'this.it'.length, 'line 10 inside "items"', false),
];

let pair: LspPair | undefined;
afterEach(async () => {
  await pair?.client.sendRequest('shutdown');
  pair?.dispose();
  pair = undefined;
});

async function suggest(p: LspPair, c: Case, uri: string): Promise<string> {
  await p.open(uri, c.text);
  const r = await p.inline(uri, { line: c.line, character: c.character }, { context: { triggerKind: 1 } });
  return r?.items[0]?.insertText.toString() ?? '';
}

async function lastTrace(p: LspPair): Promise<RequestTrace> {
  const { traces } = (await p.client.sendRequest('slipstream/traces', {})) as { traces: RequestTrace[] };
  // the last request's (not a prefetch the server ran after it)
  return traces.filter((t) => t.trigger !== 'prefetch').at(-1)!;
}

describe('token healing in the server', () => {
  it('answers no suggestion that begins with whitespace at an indented line start, and traces the healing', async () => {
    pair = createPair({ modelDir: model, drafterDir: drafter, mode: 'ar' });
    await pair.initialize({}, { completion: { debounceMs: 0, maxTokens: 24 } });
    let shown = 0;
    for (const [i, c] of CASES.entries()) {
      const text = await suggest(pair, c, `file:///heal-${i}.ts`);
      if (text !== '') shown++;
      if (c.lineStart) expect(text, `${c.name}: ${JSON.stringify(text)}`).not.toMatch(/^[ \t]/);
      const trace = await lastTrace(pair);
      expect(trace.healed, c.name).toBeDefined();
      expect(trace.healed!.tokens).toBeGreaterThanOrEqual(1);
      expect(trace.healed!.bytes).toBeGreaterThanOrEqual(1);
    }
    expect(shown).toBeGreaterThan(CASES.length / 2);
    expect(pair.logs.filter((l) => l.type === 1)).toEqual([]);
  });

  it('records no healing with slipstream.completion.tokenHealing off', async () => {
    pair = createPair({ modelDir: model, drafterDir: drafter, mode: 'ar' });
    await pair.initialize({}, { completion: { debounceMs: 0, maxTokens: 8, tokenHealing: false } });
    await suggest(pair, CASES[0]!, 'file:///off.ts');
    const trace = await lastTrace(pair);
    expect(trace.outcome).toMatch(/shown|empty/);
    expect(trace.healed).toBeUndefined();
  });

  it('gives the same healed greedy suggestions with ReDrafter as with plain decoding', async () => {
    // no snippets: the other open documents would change the second run's prompts
    pair = createPair({ modelDir: model, drafterDir: drafter, mode: 'ar' });
    await pair.initialize({}, { completion: { debounceMs: 0, maxTokens: 24, snippets: false } });
    const plain: string[] = [];
    for (const [i, c] of CASES.entries()) plain.push(await suggest(pair, c, `file:///ar-${i}.ts`));
    await pair.client.sendNotification('workspace/didChangeConfiguration', { settings: { slipstream: { engine: { mode: 'redrafter' } } } });
    const spec: string[] = [];
    for (const [i, c] of CASES.entries()) spec.push(await suggest(pair, c, `file:///rd-${i}.ts`));
    const status = (await pair.client.sendRequest('slipstream/status')) as { engine: { mode: string } };
    expect(status.engine.mode).toBe('redrafter');
    expect(spec).toEqual(plain);
    expect(plain.filter((t) => t !== '').length).toBeGreaterThan(0);
  });
});
