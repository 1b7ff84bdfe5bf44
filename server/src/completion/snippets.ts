/**
 * Snippets from other open documents of the same language, chosen like Copilot's neighbouring
 * tabs: each document is cut into windows of WINDOW lines, and the window whose identifier set is
 * most similar (Jaccard) to the lines just above the cursor wins. Window sets are cached per
 * document version, so a keystroke costs one set build for the cursor side.
 */

export interface SnippetSource {
  uri: string;
  languageId: string;
  version: number;
  getText(): string;
}
export interface Snippet {
  uri: string;
  text: string;
  score: number;
}

const WINDOW = 12;
const STEP = 6;
const MAX_DOC_CHARS = 200_000;
const MAX_DOCS = 20;
const MIN_SCORE = 0.05;

/** Keywords every file shares: they say nothing about relatedness. */
const COMMON = new Set(
  'const let var function return true false null undefined this self def class import export from new if else for while async await void type interface public private static print pass None True False'.split(' '),
);

function identifiers(text: string): Set<string> {
  return new Set((text.match(/[A-Za-z_$][A-Za-z0-9_$]{2,}/g) ?? []).filter((w) => !COMMON.has(w)));
}

function jaccard(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 || b.size === 0) return 0;
  let common = 0;
  for (const x of a) if (b.has(x)) common++;
  return common / (a.size + b.size - common);
}

interface Windows {
  version: number;
  windows: { text: string; ids: Set<string> }[];
}

export class SnippetIndex {
  private readonly cache = new Map<string, Windows>();

  /** Best windows of other same-language documents for the text above the cursor, best first. */
  pick(uri: string, languageId: string, before: string, sources: Iterable<SnippetSource>, max = 2): Snippet[] {
    const lines = before.split('\n');
    const query = identifiers(lines.slice(-WINDOW).join('\n'));
    if (query.size === 0) return [];
    const found: Snippet[] = [];
    let seen = 0;
    for (const src of sources) {
      if (src.uri === uri || src.languageId !== languageId) continue;
      if (++seen > MAX_DOCS) break;
      const windows = this.windowsOf(src);
      let best: Snippet | undefined;
      for (const w of windows) {
        const score = jaccard(query, w.ids);
        if (score > (best?.score ?? MIN_SCORE)) best = { uri: src.uri, text: w.text, score };
      }
      if (best) found.push(best);
    }
    return found.sort((a, b) => b.score - a.score).slice(0, max);
  }

  forget(uri: string): void {
    this.cache.delete(uri);
  }

  private windowsOf(src: SnippetSource): Windows['windows'] {
    const cached = this.cache.get(src.uri);
    if (cached && cached.version === src.version) return cached.windows;
    const text = src.getText();
    const windows: Windows['windows'] = [];
    if (text.length <= MAX_DOC_CHARS) {
      const lines = text.split('\n');
      for (let i = 0; i < lines.length; i += STEP) {
        const chunk = lines.slice(i, i + WINDOW).join('\n');
        if (chunk.trim()) windows.push({ text: chunk, ids: identifiers(chunk) });
        if (i + WINDOW >= lines.length) break;
      }
    }
    this.cache.set(src.uri, { version: src.version, windows });
    return windows;
  }
}

const HASH_COMMENT = new Set(['python', 'shellscript', 'ruby', 'perl', 'r', 'yaml', 'toml', 'dockerfile', 'makefile', 'powershell', 'elixir', 'julia', 'nim']);
const DASH_COMMENT = new Set(['lua', 'sql', 'haskell']);

/** The line-comment marker of a language (`//` unless known otherwise). */
export function lineComment(languageId: string): string {
  if (HASH_COMMENT.has(languageId)) return '#';
  if (DASH_COMMENT.has(languageId)) return '--';
  return '//';
}

/** A snippet as comment lines, for FIM formats without a file separator token. */
export function snippetAsComment(s: Snippet, languageId: string): string {
  const c = lineComment(languageId);
  const path = s.uri.replace(/^file:\/\//, '');
  return [`${c} Compare this snippet from ${path}:`, ...s.text.split('\n').map((l) => `${c} ${l}`)].join('\n') + '\n';
}
