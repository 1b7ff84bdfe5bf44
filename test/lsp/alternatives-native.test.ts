/**
 * completion.alternatives on the real engine (the shipped model): an invoked completion's list
 * starts with the suggestion an automatic request gets, its items are distinct, and the same
 * request gives the same list again (the alternatives' seeds are fixed), in both decoding modes,
 * and the two modes give the same list (alternatives always run plain decoding). Decoded together
 * (one generation with a branch for the first suggestion and one per alternative), the lists are
 * exactly those of suggestions generated one after another.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { InlineCompletionList } from 'vscode-languageserver-protocol';
import type { BranchRequest, EngineHost, GenerateRequest } from '../../server/src/completion/engine-host.js';
import { SwitchingEngineHost } from '../../server/src/completion/switching-engine-host.js';
import { Logger } from '../../server/src/log.js';
import { createPair, type LspPair } from '../helpers/lsp-pair.js';

let pair: LspPair | undefined;
afterEach(async () => {
  await pair?.client.sendRequest('shutdown');
  pair?.dispose();
  pair = undefined;
});

const uri = 'file:///names.ts';
const text = 'const greetings = [\n  "hello",\n  "';
const at = { line: 2, character: 3 };
const texts = (list: InlineCompletionList | null) => list!.items.map((i) => i.insertText as string);

describe('alternatives on the real engine', () => {
  const lists: Record<string, string[]> = {};
  for (const mode of ['ar', 'redrafter'] as const) {
    it(`starts with the automatic suggestion, distinct items, the same list again (mode ${mode})`, async () => {
      pair = createPair({});
      // the automatic suggestion whole (minTokenProbability and timeBudgetMs 0), as the invoked request's first item is
      await pair.initialize({}, { completion: { debounceMs: 0, maxTokens: 12, minTokenProbability: 0, timeBudgetMs: 0 }, engine: { mode }, cache: { prefetch: false } });
      await pair.open(uri, text);
      const automatic = texts(await pair.inline(uri, at));
      const first = texts(await pair.inline(uri, at, { context: { triggerKind: 1 } }));
      const again = texts(await pair.inline(uri, at, { context: { triggerKind: 1 } }));
      expect(automatic).toHaveLength(1);
      expect(first[0]).toBe(automatic[0]);
      expect(new Set(first).size).toBe(first.length);
      expect(first.length).toBeGreaterThanOrEqual(2);
      expect(again).toEqual(first);
      lists[mode] = first;
    });
  }

  it('gives the same list whatever the decoding mode: greedy ReDrafter equals plain decoding, and alternatives always decode plainly', () => {
    expect(lists.ar).toBeDefined();
    expect(lists.redrafter).toEqual(lists.ar);
  });
});

/** The server's real engine host, counting its generations, with decoding together on or hidden (alternatives then run one after another). */
class Counted implements EngineHost {
  readonly inner = new SwitchingEngineHost(new Logger(() => {}));
  generations = 0;
  together = 0;
  constructor(private readonly decodes: boolean) {}
  configure: EngineHost['configure'] = (e) => this.inner.configure(e);
  ready: EngineHost['ready'] = (s) => this.inner.ready(s);
  generate = (req: GenerateRequest) => (this.generations++, this.inner.generate(req));
  decodesTogether = (): boolean => this.decodes && this.inner.decodesTogether();
  generateTogether = (req: GenerateRequest, branches: BranchRequest[]) => (this.together++, this.inner.generateTogether(req, branches));
  takesExtraDrafts = (): boolean => this.inner.takesExtraDrafts();
  canPrefetch = (): boolean => this.inner.canPrefetch();
  closeSession: EngineHost['closeSession'] = (k) => this.inner.closeSession(k);
  status: EngineHost['status'] = () => this.inner.status();
  dispose: EngineHost['dispose'] = () => this.inner.dispose();
}

describe('alternatives decoded together on the real engine', () => {
  // line ends of a small file, each followed by an invoked request
  const source = 'export function mean(values: number[]): number {\n  let sum = 0;\n  for (const v of values) {\n    sum += v;\n  }\n  return sum / values.length;\n}\n';
  const spots = source.split('\n').slice(0, 6).map((line, i) => ({ line: i, character: line.length }));

  async function lists(host: Counted): Promise<string[][]> {
    pair = createPair({ engineHost: host, ownsEngineHost: true });
    await pair.initialize({}, { completion: { debounceMs: 0, minTokenProbability: 0, timeBudgetMs: 0 }, cache: { prefetch: false } });
    await pair.open('file:///mean.ts', source);
    const out: string[][] = [];
    for (const at of spots) out.push(texts(await pair.inline('file:///mean.ts', at, { context: { triggerKind: 1 } })));
    await pair.client.sendRequest('shutdown');
    pair.dispose();
    pair = undefined;
    return out;
  }

  it('gives exactly the lists of suggestions generated one after another, in one generation per invoked request', async () => {
    const alone = new Counted(false);
    const together = new Counted(true);
    const expected = await lists(alone);
    const got = await lists(together);
    expect(got).toEqual(expected);
    const asked = expected.filter((l) => l.length > 0).length; // an empty first suggestion asks for no alternatives
    expect(asked).toBeGreaterThanOrEqual(3);
    expect(expected.flat().length).toBeGreaterThan(asked); // some alternatives were offered
    // one after another: a generation per suggestion; together: one per invoked request, its first
    // suggestion and alternatives as its branches
    expect(alone.together).toBe(0);
    expect(alone.generations).toBeGreaterThanOrEqual(spots.length + 2 * asked);
    expect(together.together).toBe(spots.length);
    expect(together.generations).toBe(0);
  }, 120_000);
});
