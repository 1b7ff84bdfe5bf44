/**
 * The completion menu's items for a suggestion (`textDocument/completion`, for editors that show
 * no inline completions: feature.ts). Pure: text, cursor and suggestions in, item plans out, with
 * UTF-16 offsets (the feature turns them into positions in the negotiated encoding).
 *
 * A menu filters its items by the word before the cursor and replaces that word with the item, so
 * each item's edit starts at the word's start and its text starts with the word (`ret|` and the
 * suggestion `urn x;` give the item `return x;` over `ret`). The edit ends at the cursor: a
 * suggestion that ends with the rest of the line (its replaceLength) inserts what comes before
 * that rest, which leaves the same line and works in clients that insert only up to the cursor
 * (Vim's complete() does; LSP's InsertReplaceEdit is not universal). A multi-line suggestion gives two
 * items: its first line alone, then the whole suggestion. The first line is what every menu can
 * insert: an editor that completes through Vim's complete() (Vim, Neovim's omnifunc) puts a NUL
 * where a newline was; clients that apply the edit as LSP says (Helix, eglot, Sublime LSP) insert
 * the whole suggestion. Accepting the first line alone counts as a partial accept of that length.
 */

/** A suggestion as the provider answered it. */
export interface MenuSuggestion {
  /** Its id (events.ts), the accept command's argument. */
  id: string;
  text: string;
  /** UTF-16 code units after the cursor it replaces (the rest of the line it ends with). */
  replaceLength: number;
}

export interface MenuItemPlan {
  label: string;
  filterText: string;
  /** The edit: [start, cursor) of the document's text (UTF-16 offsets) becomes newText. */
  start: number;
  newText: string;
  /** "Slipstream", with the line count for a whole multi-line suggestion. */
  detail: string;
  /** The whole suggestion as the documentation popup shows it (multi-line suggestions only). */
  documentation?: { kind: 'markdown' | 'plaintext'; value: string };
  /** The item's suggestion id, and for a first line alone its length (a partial accept). */
  id: string;
  acceptedLength?: number;
}

/** Longest label a menu gets; longer ones end in "…" (the edit keeps the whole text). */
export const MAX_LABEL = 80;
/** Furthest back the word before the cursor is looked for. */
const MAX_WORD = 256;
/** Word characters as Vim's default 'iskeyword' and most editors' word motion see them: letters, digits, `_`. */
const WORD_CHAR = /[\p{L}\p{N}_]/u;

/** UTF-16 offset where the word before `offset` starts (offset itself when none). */
export function wordStart(text: string, offset: number): number {
  let start = offset;
  while (start > 0 && offset - start < MAX_WORD) {
    // step back one code point (a surrogate pair is one letter)
    const low = text.charCodeAt(start - 1);
    const back = low >= 0xdc00 && low <= 0xdfff && start >= 2 ? 2 : 1;
    if (!WORD_CHAR.test(text.slice(start - back, start))) break;
    start -= back;
  }
  return start;
}

function label(text: string): string {
  const chars = Array.from(text);
  return chars.length > MAX_LABEL ? chars.slice(0, MAX_LABEL - 1).join('') + '…' : text;
}

/** A fence longer than any run of backticks in the text, so that the code block holds it whole. */
function fence(text: string): string {
  const longest = Math.max(0, ...Array.from(text.matchAll(/`+/g), (m) => m[0].length));
  return '`'.repeat(Math.max(3, longest + 1));
}

/** The language id as a fence's info string: the characters language names use, no blanks or backticks. */
function infoString(languageId: string): string {
  return languageId.replace(/[^\w+#.-]/g, '');
}

export interface MenuOptions {
  /** The client renders markdown documentation (completionItem.documentationFormat). */
  markdown: boolean;
  /** The document's language id, for the documentation's code block. */
  languageId: string;
}

/** The menu items for `suggestions` at `offset` of `text`, in the order to show them. */
export function menuItems(text: string, offset: number, suggestions: readonly MenuSuggestion[], opts: MenuOptions): MenuItemPlan[] {
  const start = wordStart(text, offset);
  const word = text.slice(start, offset);
  const items: MenuItemPlan[] = [];
  for (const s of suggestions) {
    // what goes in before the rest of the line that the suggestion ends with
    const insert = s.text.slice(0, s.text.length - s.replaceLength);
    if (insert === '') continue;
    const newline = insert.search(/\r\n|\n|\r/);
    if (newline < 0) {
      const whole = word + insert;
      items.push({ label: label(whole), filterText: whole, start, newText: whole, detail: 'Slipstream', id: s.id });
      continue;
    }
    const firstLine = insert.slice(0, newline);
    const lines = insert.split(/\r\n|\n|\r/).length;
    if (firstLine.trim() !== '') {
      const line = word + firstLine;
      items.push({ label: label(line), filterText: line, start, newText: line, detail: 'Slipstream', id: s.id, acceptedLength: firstLine.length });
    }
    const whole = word + insert;
    const shown = firstLine.trim() !== '' ? `${word}${firstLine} …` : `${word}⏎ ${insert.trim().split(/\r\n|\n|\r/)[0]} …`;
    items.push({
      label: label(shown),
      filterText: word + firstLine,
      start,
      newText: whole,
      detail: `Slipstream · ${lines} lines`,
      documentation: opts.markdown
        ? { kind: 'markdown', value: `${fence(whole)}${infoString(opts.languageId)}\n${whole}\n${fence(whole)}` }
        : { kind: 'plaintext', value: whole },
      id: s.id,
    });
  }
  return items;
}
