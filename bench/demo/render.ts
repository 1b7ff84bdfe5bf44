/**
 * How the demo looks in a terminal: one line per suggestion (latency, line number, the typed
 * line with the suggestion as dimmed ghost text, whether it was accepted), a header and a
 * summary. Colours only when stdout is a TTY and NO_COLOR is unset; plain text otherwise.
 */

export interface Style {
  dim(s: string): string;
  bold(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  red(s: string): string;
  cyan(s: string): string;
  ghost(s: string): string;
}

const code = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;

export function makeStyle(color: boolean): Style {
  if (!color) {
    const id = (s: string): string => s;
    return { dim: id, bold: id, green: id, yellow: id, red: id, cyan: id, ghost: (s) => `⟨${s}⟩` };
  }
  return { dim: code(2, 22), bold: code(1, 22), green: code(32, 39), yellow: code(33, 39), red: code(31, 39), cyan: code(36, 39), ghost: (s) => `\x1b[90;3m${s}\x1b[39;23m` };
}

export function formatMs(ms: number | null): string {
  if (ms === null) return '–';
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

function latencyColour(style: Style, ms: number): (s: string) => string {
  return ms < 50 ? style.green : ms < 200 ? style.yellow : style.red;
}

/** Visible text: newlines and tabs shown as symbols, cut to `width` characters. */
function visible(s: string, width: number): string {
  const flat = s.replace(/\t/g, '→').replace(/\n/g, '⏎');
  const chars = [...flat];
  return chars.length <= width ? flat : `${chars.slice(0, Math.max(0, width - 1)).join('')}…`;
}

export interface SuggestionLine {
  ms: number;
  line: number;
  /** The current line up to the cursor. */
  typed: string;
  suggestion: string;
  verdict: 'full' | 'partial' | 'none' | 'empty';
  acceptedLength: number;
}

export function suggestionLine(style: Style, s: SuggestionLine, columns: number): string {
  const ms = latencyColour(style, s.ms)(formatMs(s.ms).padStart(8));
  const lineNo = style.dim(String(s.line + 1).padStart(3));
  const mark =
    s.verdict === 'full' ? style.green('✓ accepted') : s.verdict === 'partial' ? style.yellow(`◐ ${s.acceptedLength} chars`) : s.verdict === 'empty' ? style.dim('· nothing') : style.dim('· shown');
  const room = Math.max(20, columns - 8 - 3 - 14 - 6);
  const typed = s.typed.trimStart();
  const typedShown = visible(typed.length > room / 2 ? `…${typed.slice(typed.length - Math.floor(room / 2))}` : typed, room);
  const ghostRoom = Math.max(8, room - [...typedShown].length);
  const ghost = s.suggestion ? style.ghost(visible(s.suggestion, ghostRoom)) : '';
  return `${ms} ${lineNo} ${style.dim('│')} ${typedShown}${ghost}  ${mark}`;
}

export function rule(style: Style, columns: number): string {
  return style.dim('─'.repeat(Math.min(columns, 100)));
}
