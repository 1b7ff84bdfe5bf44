/**
 * Cursor markers in golden text (Tabby's golden format): `├` is the cursor and starts the
 * completion, `┤` ends it, and an optional `╣` after `┤` ends the range of existing text the
 * completion replaces. Everything before `├` is the prefix, after `┤` (without `╣`) the suffix.
 */
export interface Marked {
  prefix: string;
  completion: string;
  suffix: string;
  /** UTF-16 code units of the suffix the completion replaces (0 without `╣`). */
  replaceLength: number;
}

export function parseMarked(text: string): Marked {
  const start = text.indexOf('├');
  const end = text.indexOf('┤');
  if (start < 0 || end < start) throw new Error(`marked text needs ├ before ┤: ${JSON.stringify(text.slice(0, 80))}`);
  const after = text.slice(end + 1);
  const replaceAt = after.indexOf('╣');
  return {
    prefix: text.slice(0, start),
    completion: text.slice(start + 1, end),
    suffix: replaceAt < 0 ? after : after.slice(0, replaceAt) + after.slice(replaceAt + 1),
    replaceLength: replaceAt < 0 ? 0 : replaceAt,
  };
}
