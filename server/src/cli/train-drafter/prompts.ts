/**
 * The prompts `slipstream train-drafter` continues with the base model: text files (the user's
 * --prompts FILE|DIR, else the shipped fixtures/workspace/src), tokenized once each and cut into
 * prompts at seeded random points. Each file's first 80% of tokens feeds training prompts and the
 * last 20% the held-out evaluation prompts, so no evaluation prompt is text seen in training.
 * For a model with fill-in-the-middle tokens a share of the prompts are the server's own FIM
 * prompts (fim.ts) at a random cursor inside the same part of the file.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import { mulberry32 } from '../../mulberry32.js';
import type { Tokenizer } from '../../../../native/lib/tokenizer.js';
import type { FimPrompts } from './fim.js';

/** Extensions taken from a --prompts folder (source code and text). */
const TEXT_EXTENSIONS = new Set([
  '.ts', '.tsx', '.js', '.jsx', '.mjs', '.cjs', '.py', '.rs', '.go', '.java', '.kt', '.c', '.h', '.cc', '.cpp', '.hpp',
  '.cs', '.rb', '.php', '.swift', '.scala', '.lua', '.sh', '.sql', '.html', '.css', '.json', '.md', '.txt', '.yaml', '.yml', '.toml',
]);
const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', 'build', 'target', '__pycache__', '.venv', 'venv']);
const MAX_FILE_BYTES = 512 * 1024;
const MAX_FILES = 5000;

export interface PromptFile {
  path: string;
  tokens: Int32Array;
  text: string;
  /** Where the held-out part starts in text: the characters of the first 80% of tokens. */
  textCut: number;
}

/** The share of file tokens that feeds training prompts (the rest is held out). */
const TRAIN_SHARE = 0.8;

/** The text files under path (a file, or a folder walked in sorted order), at most MAX_FILES. */
export function listPromptFiles(path: string): string[] {
  const st = statSync(path);
  if (st.isFile()) return [path];
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      if (out.length >= MAX_FILES) return;
      const p = join(dir, name);
      let s;
      try {
        s = statSync(p);
      } catch {
        continue;
      }
      if (s.isDirectory()) {
        if (!SKIP_DIRS.has(name) && !name.startsWith('.')) walk(p);
      } else if (s.isFile() && TEXT_EXTENSIONS.has(extname(name).toLowerCase()) && s.size > 0 && s.size <= MAX_FILE_BYTES) {
        out.push(p);
      }
    }
  };
  walk(path);
  return out;
}

/** Reads and tokenizes the files (no BOS/EOS; special-token strings taken as text). */
export function tokenizeFiles(paths: string[], tokenizer: Tokenizer): PromptFile[] {
  const out: PromptFile[] = [];
  for (const path of paths) {
    const text = readFileSync(path, 'utf8');
    if (text.includes('\u0000')) continue;  // binary
    const tokens = tokenizer.encode(text, { addSpecialTokens: false, literalSpecials: true });
    if (tokens.length < 16) continue;
    const head = tokenizer.decode(tokens.subarray(0, Math.floor(tokens.length * TRAIN_SHARE)));
    out.push({ path, tokens, text, textCut: text.startsWith(head) ? head.length : Math.floor(text.length * TRAIN_SHARE) });
  }
  return out;
}

export interface PromptSampler {
  /** The next prompt: [BOS] + 8..maxLen tokens ending at a random point of a random file's part. */
  next(): { prompt: Int32Array; source: string };
}

/**
 * Prompts from the training part (first 80%) or the held-out part (last 20%) of each file's
 * tokens. bos: prepended when the tokenizer adds one. root: paths are reported relative to it.
 */
export function promptSampler(
  files: PromptFile[], part: 'train' | 'heldout',
  opts: { seed: number; maxLen: number; bos: number | null; root: string; fim?: FimPrompts },
): PromptSampler {
  const spans = files
    .map((f) => {
      const cut = Math.floor(f.tokens.length * TRAIN_SHARE);
      return { f, lo: part === 'train' ? 0 : cut, hi: part === 'train' ? cut : f.tokens.length };
    })
    .filter((s) => s.hi - s.lo >= 9);
  if (spans.length === 0) throw new Error(`no file has enough text for ${part} prompts (a file needs about 50 tokens or more)`);
  const weights = spans.map((s) => s.hi - s.lo);
  const total = weights.reduce((a, b) => a + b, 0);
  const rand = mulberry32(opts.seed);
  return {
    next() {
      let r = rand() * total;
      let i = 0;
      while (i < spans.length - 1 && r >= weights[i]!) r -= weights[i++]!;
      const s = spans[i]!;
      const where = relative(opts.root, s.f.path) || s.f.path;
      if (opts.fim && rand() < opts.fim.share) return opts.fim.prompt(s.f, part, rand, where);
      const len = 8 + Math.floor(rand() * (opts.maxLen - 7));
      const end = s.lo + 8 + Math.floor(rand() * (s.hi - s.lo - 8));  // at least 8 tokens before it
      const start = Math.max(s.lo, end - len);
      const body = s.f.tokens.subarray(start, end);
      const prompt = opts.bos === null ? Int32Array.from(body) : Int32Array.of(opts.bos, ...body);
      return { prompt, source: `${where}:${start}-${end}` };
    },
  };
}
