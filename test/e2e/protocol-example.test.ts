/**
 * docs/protocol.md's slipstream/complete example is what the server really answers: its params,
 * sent to `slipstream serve --stdio` with nothing configured (the shipped model), give the items
 * the page shows. Greedy decoding is deterministic for given kernels; the example is made by
 * scripts/gen-protocol-example.mjs with the AVX-512 BF16 kernels (rerun it there when the engine's
 * arithmetic changes), so on a CPU with another kernel path (where a near-tie may break the other
 * way) only a non-empty answer is required.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LspClient } from '../../bench/lib/lsp-client.js';
import { backends } from '../../native/lib/index.js';
import { repoRoot } from '../helpers/paths.js';

/** The `// params` and `// result` lines of the example under "## slipstream/complete". */
function docExample(): { params: Record<string, unknown>; result: { items: unknown[] } } {
  const doc = readFileSync(join(repoRoot, 'docs', 'protocol.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## slipstream/complete'));
  const line = (label: string): string => {
    const m = new RegExp(`// ${label}\\n(.*)\\n`).exec(section);
    if (!m) throw new Error(`docs/protocol.md: no "// ${label}" line in the slipstream/complete example`);
    return m[1]!;
  };
  return { params: JSON.parse(line('params')), result: JSON.parse(line('result')) };
}

describe("docs/protocol.md's slipstream/complete example", () => {
  const client = new LspClient([]);
  afterAll(() => client.close());

  it('is the real answer of the server with the shipped model', async () => {
    const { params, result } = docExample();
    await client.initialize(undefined);
    const answer = await client.request<{ items: { insertText: string }[] }>('slipstream/complete', params);
    expect(answer.items[0]?.insertText.length).toBeGreaterThan(0);
    if (backends()[0]?.device?.includes('avx512+bf16')) expect(answer.items).toEqual(result.items);
  });
});
