/**
 * Suggestions from the shipped model after an emoji or CJK character: the model emits stray
 * UTF-8 continuation bytes there, which used to reach the editor as U+FFFD (4 of these 12
 * requests, 8 of 30 in the run). None may carry a U+FFFD now.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LspClient } from '../../bench/lib/lsp-client.js';
import { repoRoot } from '../helpers/paths.js';

let client: LspClient;
beforeAll(async () => {
  client = new LspClient(['--model', join(repoRoot, 'fixtures', 'models', 'slipstream-code')], { onShowMessage: () => {} });
  await client.initialize({ completion: { debounceMs: 0, maxTokens: 16 } });
});
afterAll(() => client?.close());

describe('suggestions after non-ASCII text', () => {
  it('never contain U+FFFD', async () => {
    const suggestions: string[] = [];
    for (const ch of ['😀', '日本語', '🎉', '中']) {
      for (const before of ['// ', 'const s = "', 'print("']) {
        const text = `function f() {\n  ${before}${ch}`;
        const r = await client.request<{ items: { insertText: string }[] }>('slipstream/complete', { text, offset: text.length, languageId: 'typescript' });
        suggestions.push(r.items[0]?.insertText ?? '');
      }
    }
    expect(suggestions.filter((s) => s !== '').length).toBeGreaterThan(6);
    expect(suggestions.filter((s) => s.includes('\uFFFD'))).toEqual([]);
  });
});
