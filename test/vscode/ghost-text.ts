/**
 * Reads the inline-suggestion ghost text that VS Code draws in the editor DOM: the part on the
 * cursor line (spans with class `ghost-text-decoration`, split by syntax colouring) and, for a
 * multi-line suggestion, the extra lines (`.ghost-text` spans in `.view-line`s) in the
 * `.suggest-preview-text` view zone below it. VS Code renders
 * spaces as U+00A0; they come back as plain spaces. Class names are VS Code internals (1.100).
 */
import type { Page } from './tools.js';

interface GhostDom {
  inline: string;
  lines: string[];
  html: string;
}

const READ_GHOST = `(() => {
  const ed = document.querySelector('.editor-instance .monaco-editor');
  if (!ed) return { inline: '', lines: [], html: '' };
  const spans = [...ed.querySelectorAll('.view-lines .ghost-text-decoration')];
  const zones = [...ed.querySelectorAll('.view-zones .suggest-preview-text')].filter((z) => z.querySelector('.ghost-text'));
  const top = (l) => parseFloat(l.style.top) || 0;
  const lines = zones.flatMap((z) => [...z.querySelectorAll('.view-line')].sort((a, b) => top(a) - top(b)).map((l) => l.textContent));
  const html = spans.slice(0, 1).map((s) => s.parentElement.outerHTML).concat(zones.map((z) => z.outerHTML)).join(' ');
  return { inline: spans.map((s) => s.textContent).join(''), lines, html };
})()`;

const plain = (s: string): string => s.replace(/\u00a0/g, ' ');

/** The ghost text now shown, as the text Tab would insert ('' when none). */
export async function readGhostText(page: Page): Promise<{ text: string; html: string }> {
  const dom = await page.evaluate<GhostDom>(READ_GHOST);
  const text = [dom.inline, ...dom.lines].map(plain).join('\n');
  return { text: dom.lines.length === 0 && dom.inline === '' ? '' : text, html: dom.html };
}

/** Waits until the ghost text is non-empty and has not changed for `quietMs`; returns it. */
export async function waitForStableGhost(page: Page, quietMs: number, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  let since = Date.now();
  for (;;) {
    const { text, html } = await readGhostText(page);
    if (text !== last) {
      last = text;
      since = Date.now();
      if (process.env.SLIPSTREAM_E2E_DEBUG) console.log(`ghost DOM: ${html}`);
    } else if (text !== '' && Date.now() - since >= quietMs) {
      return text;
    }
    if (Date.now() > deadline) throw new Error(`ghost text did not settle in ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
    await page.waitForTimeout(100);
  }
}

/** Waits for a non-empty ghost text other than `other` (cycling: Alt+] / Alt+[), then for it to stay unchanged for 500 ms; returns it. */
export async function waitForGhostOtherThan(page: Page, other: string, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { text } = await readGhostText(page);
    if (text !== '' && text !== other) return waitForStableGhost(page, 500, Math.max(1000, deadline - Date.now()));
    if (Date.now() > deadline) throw new Error(`the ghost text stayed ${JSON.stringify(text)} for ${timeoutMs} ms`);
    await page.waitForTimeout(100);
  }
}
