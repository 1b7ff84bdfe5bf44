/**
 * editors/neovim in a real Neovim (0.7 or later; Debian ships 0.7.2) against the real server and
 * the shipped model: the shared editor suite, plus a readback of the suggestion from the plugin's
 * extmark (its virtual text and virtual lines) next to the screen. Skips with a reason when nvim
 * is not installed; CI installs it.
 */
import { expect } from 'vitest';
import { findEditor, type Snapshot } from './editor-session.js';
import { editorSuite } from './editor-suite.js';
import { NeovimSession, type NeovimSnapshot } from './nvim-session.js';

/** The lines the extmark shows from its row on: the row with its virtual text applied, then its virt_lines. */
function extmarkLines(snap: NeovimSnapshot): string[] {
  expect(snap.marks).toHaveLength(1);
  const m = snap.marks[0]!;
  expect({ row: m.row, col: m.col }).toEqual({ row: snap.row, col: snap.col });
  const line = Buffer.from(snap.lines[m.row]!, 'utf8');
  const head = line.subarray(0, m.col).toString('utf8');
  const tail = line.subarray(m.col).toString('utf8');
  const text = (m.virt_text ?? []).map(([chunk]) => chunk).join('');
  let first: string;
  if (m.virt_text_pos === 'inline') first = head + text + tail;
  else if (m.virt_text_pos === 'overlay') first = head + text + [...tail].slice([...text].length).join('');
  else first = head + tail + text; // eol
  return [first, ...(m.virt_lines ?? []).map((l) => l.map(([chunk]) => chunk).join(''))].map((l) => l.trimEnd());
}

editorSuite({
  name: 'neovim',
  tool: findEditor('nvim', (v) => (/NVIM v0\.[0-6]\./.test(v) ? 'is older than 0.7, the oldest the plugin supports' : undefined)),
  start: (opts) => NeovimSession.start(opts),
  checkDecorations(shown: Snapshot, expectedLines: string[], insertText: string) {
    const count = insertText.split(/\r\n|\n|\r/).length;
    expect(extmarkLines(shown as NeovimSnapshot), 'the extmark read back').toEqual(expectedLines.slice(shown.row, shown.row + count).map((l) => l.trimEnd()));
  },
  checkCleared(snap: Snapshot) {
    expect((snap as NeovimSnapshot).marks).toEqual([]);
  },
});
