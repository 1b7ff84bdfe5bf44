/**
 * bench/llama-cpp/hf-to-gguf.ts on Llama folders, checked where it matters: a real llama-server
 * serving the converted file continues the same prompt ids greedily as the engine does on the HF
 * folder, and tokenizes text as the model's own tokenizer does. stories260K (float32, a
 * SentencePiece-style byte-fallback tokenizer) agrees token for token; the shipped model (bf16,
 * its own byte-level BPE, SPM fill-in-the-middle prompts built by the server's prompt builder)
 * agrees on the first tokens of every prompt and on most prompts throughout; where it does not,
 * the engine's own logits for the two candidate tokens are a near tie (llama.cpp rounds
 * activations to bf16 for its bf16 matrix products and sums in another order than the engine's
 * kernels, which moves logits by about 1e-3), and greedy decoding diverges from there on. Skips
 * (one line) until llama-server is built.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Model } from '../../native/lib/index.js';
import { Tokenizer } from '../../native/lib/tokenizer.js';
import { buildPrompt, PromptState } from '../../server/src/completion/context.js';
import { detectPromptFormat, DOCUMENT_TEXT } from '../../server/src/completion/prompt-format.js';
import { lineSplitRule } from '../../server/src/completion/token-cache.js';
import { drain } from '../helpers/engine-compare.js';
import { stories260K } from '../helpers/paths.js';
import { GgufCache, LlamaServer, llamaServerMissing, shippedModel } from './llama-server.js';

const missing = llamaServerMissing();
if (missing) console.warn(`llama-server parity ${missing}`);

/** Code around a cursor (marked ‸), as an editor would have it. */
const CODE = [
  'export function clamp(x: number, lo: number, hi: number): number {\n  ‸\n}\n',
  'def fibonacci(n):\n    if n < 2:\n        return n\n    ‸\n',
  'const users = await db.query("select * from users");\nfor (const user of users) {\n  console.log(‸);\n}\n',
  '#include <stdio.h>\n\nint main(void) {\n    int total = 0;\n    for (int i = 0; i < 10; i++) {\n        ‸\n    }\n    printf("%d\\n", total);\n}\n',
  'class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, item):\n        ‸\n',
];
const GENERATED = 32;

function commonPrefix(a: number[], b: number[]): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}

async function engineGreedy(model: Model, prompt: Int32Array, n: number, stop: number[]): Promise<number[]> {
  const s = model.createSession();
  try {
    const { result } = await drain(s.generate(prompt, { maxTokens: n, temperature: 0, stopTokens: stop }));
    return Array.from(result.ids).filter((id) => !stop.includes(id));
  } finally {
    s.dispose();
  }
}

/** The engine's logits for tokens a and b after prompt + prefix (where two greedy decodings parted). */
async function engineLogits(model: Model, prompt: Int32Array, prefix: number[], a: number, b: number): Promise<[number, number]> {
  const s = model.createSession();
  try {
    const ids = Int32Array.from([...prompt, ...prefix]);
    const { logits } = await s.forward(ids);
    const row = logits.subarray(logits.length - model.info.vocabSize);
    return [row[a]!, row[b]!];
  } finally {
    s.dispose();
  }
}

async function serverGreedy(server: LlamaServer, prompt: Int32Array, n: number, stop: number[]): Promise<number[]> {
  const r = await server.post<{ tokens: number[] }>('/completion', { prompt: Array.from(prompt), n_predict: n, temperature: 0, return_tokens: true, cache_prompt: false });
  const cut = r.tokens.findIndex((id) => stop.includes(id));
  return cut >= 0 ? r.tokens.slice(0, cut) : r.tokens;
}

interface Pair {
  server: LlamaServer;
  model: Model;
  tok: Tokenizer;
}

/** For the enclosing describe: llama-server on the folder's GGUF, and the engine and tokenizer on the folder. */
function serverAndEngine(ggufs: GgufCache, dir: string, ctx: number): Pair {
  const p = {} as Pair;
  beforeAll(async () => {
    p.server = await LlamaServer.start(ggufs.get(dir), { parallel: 1, ctx });
    p.model = await Model.load(dir, { backend: 'cpu' });
    p.tok = await Tokenizer.load(dir);
  });
  afterAll(async () => {
    p.model?.dispose();
    await p.server?.stop();
  });
  return p;
}

describe.skipIf(missing !== null)('GGUF conversion of Llama folders, against the engine', () => {
  const ggufs = new GgufCache();
  afterAll(() => ggufs.dispose());

  describe('stories260K (f32, byte-fallback BPE)', () => {
    const p = serverAndEngine(ggufs, stories260K, 512);

    it('continues prompts greedily token for token as the engine does (q/k permutation, rope, GQA)', async () => {
      for (const text of ['Once upon a time', 'The little dog was', 'Lily and Tom went to the park. They']) {
        const prompt = p.tok.encode(text); // with BOS, as the model was trained
        const ours = await engineGreedy(p.model, prompt, 64, [2]);
        const theirs = await serverGreedy(p.server, prompt, 64, [2]);
        expect(ours.length).toBeGreaterThan(20);
        expect(theirs, text).toEqual(ours);
      }
    });

    it('tokenizes text as the HF tokenizer does (SPM vocabulary with merge-rank scores, byte fallback)', async () => {
      for (const text of ['Once upon a time, there was a little girl named Lily.', 'She said, "Wow!" 123 é ü 🐶\nnew line', '  two spaces']) {
        const ours = Array.from(p.tok.encode(text, { addSpecialTokens: false }));
        const r = await p.server.post<{ tokens: number[] }>('/tokenize', { content: text, add_special: false });
        expect(r.tokens, text).toEqual(ours);
      }
    });
  });

  describe('the shipped model (bf16, byte-level BPE, SPM FIM)', () => {
    const p = serverAndEngine(ggufs, shippedModel, 2048);

    it('tokenizes code as the HF tokenizer does (gpt-2 pre-tokenizer), special tokens included', async () => {
      for (const text of [CODE[0]!.replace('‸', ''), CODE[3]!.replace('‸', ''), 'x  =  1;\t\ty\r\n  \n\nz = "é😀";  ', "it's 'll 've 123456"]) {
        const ours = Array.from(p.tok.encode(text, DOCUMENT_TEXT));
        const r = await p.server.post<{ tokens: number[] }>('/tokenize', { content: text, add_special: false });
        expect(r.tokens, JSON.stringify(text)).toEqual(ours);
      }
      const spelled = await p.server.post<{ tokens: number[] }>('/tokenize', { content: '<|fim_prefix|><|fim_suffix|>x<|fim_middle|>', add_special: false, parse_special: true });
      expect(spelled.tokens).toEqual([p.tok.tokenId('<|fim_prefix|>'), p.tok.tokenId('<|fim_suffix|>'), ...p.tok.encode('x', DOCUMENT_TEXT), p.tok.tokenId('<|fim_middle|>')]);
    });

    it(`agrees with the engine on the first greedy tokens of FIM prompts (${GENERATED} generated per prompt)`, async () => {
      const format = detectPromptFormat(p.tok);
      expect(format.kind === 'fim' && format.order).toBe('spm');
      const agreed: string[] = [];
      let total = 0;
      let matched = 0;
      for (const code of CODE) {
        const offset = code.indexOf('‸');
        const text = code.replace('‸', '');
        const prompt = buildPrompt({ text, offset, languageId: 'typescript' }, p.tok, format, { contextTokens: 1024, suffixShare: 0.25, maxTokens: GENERATED, maxContext: 1024 }, new PromptState(lineSplitRule(p.tok))).ids;
        const ours = await engineGreedy(p.model, prompt, GENERATED, format.stopTokens);
        const theirs = await serverGreedy(p.server, prompt, GENERATED, format.stopTokens);
        const n = commonPrefix(ours, theirs);
        const what = `prompt ${JSON.stringify(code.slice(0, 40))}: engine ${JSON.stringify(p.tok.decode(ours))} vs llama.cpp ${JSON.stringify(p.tok.decode(theirs))}`;
        total += Math.max(ours.length, theirs.length);
        matched += n;
        // Every prompt: at least its first 4 tokens.
        expect(n, what).toBeGreaterThanOrEqual(Math.min(4, ours.length));
        if (n < Math.min(ours.length, theirs.length)) {
          // Where they part, the engine itself nearly ties the two choices.
          const [a, b] = await engineLogits(p.model, prompt, ours.slice(0, n), ours[n]!, theirs[n]!);
          agreed.push(`${n}/${GENERATED} (then ${JSON.stringify(p.tok.decode([ours[n]!]))} vs ${JSON.stringify(p.tok.decode([theirs[n]!]))}, engine logits ${a.toFixed(4)} vs ${b.toFixed(4)})`);
          expect(a - b, what).toBeLessThan(0.01);
        } else {
          agreed.push(`${n}/${GENERATED}`);
        }
      }
      console.log(`shipped model, greedy tokens equal to the engine's before the first difference: ${agreed.join(', ')} (${matched} of ${total})`);
      expect(matched / total).toBeGreaterThanOrEqual(0.6);
    });
  });
});
