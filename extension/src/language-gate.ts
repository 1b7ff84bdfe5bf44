/**
 * Which documents the extension offers suggestions for (and sends to the server at all): every
 * file and untitled document, except languages turned off in `slipstream.languages` (a map of
 * language id to true/false). Plain text, Markdown and .env files are off unless turned on: prose
 * gets poor suggestions and .env files hold secrets. Pure (no vscode), so it is unit-tested.
 */

/** The default of `slipstream.languages`. */
export const DEFAULT_LANGUAGES: Record<string, boolean> = { plaintext: false, markdown: false, dotenv: false };

/** Whether suggestions are on for `languageId` under the user's map (missing ids: on, unless off by default). */
export function languageEnabled(map: Record<string, unknown> | undefined, languageId: string): boolean {
  const v = map?.[languageId];
  if (typeof v === 'boolean') return v;
  return DEFAULT_LANGUAGES[languageId] ?? true;
}

/** The map with `languageId` switched the other way. */
export function toggledLanguages(map: Record<string, unknown> | undefined, languageId: string): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const [k, v] of Object.entries(map ?? {})) if (typeof v === 'boolean') out[k] = v;
  out[languageId] = !languageEnabled(map, languageId);
  return out;
}

/**
 * A .env file (`.env`, `.env.local`, `prod.env`): VS Code names its language `properties` (or
 * `dotenv` with an extension), so it is recognised by name and governed by the `dotenv` entry.
 */
export function isDotenvFile(path: string): boolean {
  const name = path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
  return /^\.env(\..*)?$/.test(name) || /\.env$/.test(name);
}

/** The `slipstream.languages` entry that governs a document: its language, or `dotenv` for a .env file. */
export function languageKey(languageId: string, path: string): string {
  return isDotenvFile(path) ? 'dotenv' : languageId;
}

/** Whether a document gets suggestions (and is sent to the server). */
export function documentEnabled(map: Record<string, unknown> | undefined, languageId: string, path: string): boolean {
  return languageEnabled(map, languageKey(languageId, path));
}

/** Documents the server may see: files and untitled buffers (not git views, output panes, settings). */
export function syncableScheme(scheme: string): boolean {
  return scheme === 'file' || scheme === 'untitled';
}
