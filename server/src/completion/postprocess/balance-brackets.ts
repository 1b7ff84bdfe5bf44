/**
 * Bracket balance (Continue's unmatched-closing-bracket stop): a closing bracket that matches
 * neither a bracket the completion opened nor the innermost one still open before the cursor ends
 * the completion; so does closing a bracket from before the cursor when the rest of the line
 * already closes it. Brackets inside string literals and line comments are ignored.
 */
import { lineSuffix, type Filter } from './context.js';

const PAIRS: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
const OPEN = new Set(['(', '[', '{']);

/** Calls visit(ch, index) for each bracket outside strings and line comments. */
function scanBrackets(text: string, visit: (ch: string, index: number) => boolean | void): void {
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote || (ch === '\n' && quote !== '`')) quote = '';
      continue;
    }
    if (ch === '"' || ch === "'" || ch === '`') quote = ch;
    else if (ch === '/' && text[i + 1] === '/') {
      const nl = text.indexOf('\n', i);
      if (nl < 0) return;
      i = nl;
    } else if (OPEN.has(ch) || ch in PAIRS) {
      if (visit(ch, i) === false) return;
    }
  }
}

/** Brackets still open at the end of `text`, innermost last. */
export function openBrackets(text: string): string[] {
  const stack: string[] = [];
  scanBrackets(text, (ch) => {
    if (OPEN.has(ch)) stack.push(ch);
    else if (stack[stack.length - 1] === PAIRS[ch]) stack.pop();
  });
  return stack;
}

export const balanceBrackets: Filter = (completion, ctx) => {
  const outer = openBrackets(ctx.prefix.slice(-4000));
  const rest = lineSuffix(ctx).trimStart();
  const own: string[] = [];
  let cut = -1;
  scanBrackets(completion, (ch, i) => {
    if (OPEN.has(ch)) {
      own.push(ch);
      return;
    }
    if (own.length > 0) {
      if (own[own.length - 1] === PAIRS[ch]) {
        own.pop();
        return;
      }
      cut = i;
      return false;
    }
    // Closes something opened before the cursor: fine unless unmatched or the line already closes it.
    if (outer[outer.length - 1] !== PAIRS[ch] || rest.startsWith(ch)) {
      cut = i;
      return false;
    }
    outer.pop();
  });
  return cut < 0 ? completion : completion.slice(0, cut);
};
