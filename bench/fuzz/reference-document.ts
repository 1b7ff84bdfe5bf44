/**
 * The fuzzer's reference for what the server's documents must hold: LSP text synchronisation
 * written independently of the server (no vscode-languageserver-textdocument, no zod). A document
 * is a string; a position maps to an offset by splitting the text into lines at CR LF, CR and LF
 * (UTF-16 columns); a line past the last means the end of the text and a character past its line's
 * end means that end (before the line break); a range whose end comes before its start is used
 * with its ends swapped. `acceptedChange` decides, from the LSP types alone, whether the server
 * must apply a didChange at all.
 */

export interface Pos {
  line: number;
  character: number;
}

export class ReferenceDocument {
  constructor(
    public text: string,
    public version: number,
  ) {}

  /** Offset of a position (see the file comment for positions past the end). */
  offsetAt(p: Pos): number {
    const starts = lineStarts(this.text);
    if (p.line >= starts.length) return this.text.length;
    const start = starts[p.line]!;
    const next = p.line + 1 < starts.length ? starts[p.line + 1]! : this.text.length;
    let end = next;
    if (end > start && this.text[end - 1] === '\n') end--;
    if (end > start && this.text[end - 1] === '\r') end--;
    return Math.min(start + p.character, end);
  }

  /** Applies content changes in order, each against the text the previous ones left. */
  apply(changes: { range?: { start: Pos; end: Pos }; text: string }[], version: number): void {
    for (const c of changes) {
      if (!c.range) {
        this.text = c.text;
        continue;
      }
      const a = this.offsetAt(c.range.start);
      const b = this.offsetAt(c.range.end);
      this.text = this.text.slice(0, Math.min(a, b)) + c.text + this.text.slice(Math.max(a, b));
    }
    this.version = version;
  }

  get lineCount(): number {
    return lineStarts(this.text).length;
  }
}

/** Offsets where each line starts; a line break is CR LF, CR or LF. */
export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 13 && text.charCodeAt(i + 1) === 10) i++;
    if (c === 13 || c === 10) starts.push(i + 1);
  }
  return starts;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isUint = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 2 ** 31 - 1;
const isInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= -(2 ** 31) && (v as number) <= 2 ** 31 - 1;
const isPos = (v: unknown): v is Pos => isObject(v) && isUint(v.line) && isUint(v.character);

/** Deepest nesting of objects and arrays in a value (iterative). */
export function depthOf(value: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    max = Math.max(max, d);
    for (const c of Array.isArray(v) ? v : Object.values(v)) stack.push([c, d + 1]);
  }
  return max;
}

/** The params of a didChange the LSP types allow, or null. */
export function acceptedChange(params: unknown): { uri: string; version: number; changes: { range?: { start: Pos; end: Pos }; text: string }[] } | null {
  if (!isObject(params) || depthOf(params) > 64) return null;
  const td = params.textDocument;
  if (!isObject(td) || typeof td.uri !== 'string' || !isInt(td.version) || !Array.isArray(params.contentChanges)) return null;
  for (const c of params.contentChanges) {
    if (!isObject(c) || typeof c.text !== 'string') return null;
    if ('range' in c && !(isObject(c.range) && isPos(c.range.start) && isPos(c.range.end))) return null;
    if ('rangeLength' in c && !isUint(c.rangeLength)) return null;
  }
  return { uri: td.uri, version: td.version, changes: params.contentChanges as { range?: { start: Pos; end: Pos }; text: string }[] };
}

/** The text document of a didOpen the LSP types allow, or null. */
export function acceptedOpen(params: unknown): { uri: string; version: number; text: string } | null {
  if (!isObject(params) || depthOf(params) > 64) return null;
  const td = params.textDocument;
  if (!isObject(td) || typeof td.uri !== 'string' || typeof td.languageId !== 'string' || !isInt(td.version) || typeof td.text !== 'string') return null;
  return { uri: td.uri, version: td.version, text: td.text };
}

/** The uri of a didClose the LSP types allow, or null. */
export function acceptedClose(params: unknown): string | null {
  if (!isObject(params) || depthOf(params) > 64) return null;
  const td = params.textDocument;
  return isObject(td) && typeof td.uri === 'string' ? td.uri : null;
}
