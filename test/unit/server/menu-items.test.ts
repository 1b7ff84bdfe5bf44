/**
 * menu-items.ts: the word before the cursor (letters and digits of any script, `_`, surrogate
 * pairs whole, not across a line), labels cut at MAX_LABEL, the two items of a multi-line
 * suggestion (none for the first line when it is blank), the rest of the line a suggestion ends
 * with left out of the insert, and a documentation fence longer than the suggestion's backtick runs.
 */
import { describe, expect, it } from 'vitest';
import { MAX_LABEL, menuItems, wordStart } from '../../../server/src/completion/menu-items.js';

const md = { markdown: true, languageId: 'python' };

describe('wordStart', () => {
  it.each([
    ['ret', 3, 0],
    ['  return', 8, 2],
    ['a.b_c1', 6, 2],
    ['x = größe', 9, 4],
    ['foo$bar', 7, 4],
    ['a\nbc', 4, 2],
    ['f(', 2, 2],
    ['𝑥𝑦', 4, 0],
    ['', 0, 0],
  ])('%j at %i starts at %i', (text, offset, start) => {
    expect(wordStart(text, offset)).toBe(start);
  });
});

describe('menuItems', () => {
  it('skips empty suggestions and keeps the order of the others', () => {
    const items = menuItems('x = ', 4, [{ id: 's1', text: '', replaceLength: 0 }, { id: 's2', text: '1', replaceLength: 0 }, { id: 's3', text: '2', replaceLength: 0 }], md);
    expect(items.map((i) => [i.id, i.newText])).toEqual([['s2', '1'], ['s3', '2']]);
  });

  it('cuts long labels but keeps the whole text in the edit and the filter', () => {
    const text = 'a'.repeat(100);
    const [item] = menuItems('', 0, [{ id: 's1', text, replaceLength: 0 }], md);
    expect(Array.from(item!.label)).toHaveLength(MAX_LABEL);
    expect(item!.label.endsWith('…')).toBe(true);
    expect([item!.newText, item!.filterText]).toEqual([text, text]);
  });

  it('offers only the whole suggestion when its first line is blank', () => {
    const items = menuItems('def f():', 8, [{ id: 's1', text: '\n    return 1', replaceLength: 0 }], md);
    expect(items.map((i) => [i.label, i.newText, i.acceptedLength])).toEqual([['⏎ return 1 …', '\n    return 1', undefined]]);
  });

  it('inserts what comes before the rest of the line that a suggestion ends with', () => {
    expect(menuItems('f(x)\n', 3, [{ id: 's1', text: ', y)', replaceLength: 1 }], md).map((i) => [i.start, i.newText])).toEqual([[2, 'x, y']]);
    const items = menuItems('f()\n', 2, [{ id: 's1', text: 'a,\n  b)', replaceLength: 1 }], md);
    expect(items.map((i) => [i.start, i.newText, i.acceptedLength])).toEqual([
      [2, 'a,', 2],
      [2, 'a,\n  b', undefined],
    ]);
    // a suggestion that is only the rest of the line adds nothing
    expect(menuItems('f()\n', 2, [{ id: 's1', text: ')', replaceLength: 1 }], md)).toEqual([]);
  });

  it('fences the documentation longer than any backtick run in the suggestion', () => {
    const [, whole] = menuItems('s = ', 4, [{ id: 's1', text: '"""```\n````"""', replaceLength: 0 }], md);
    expect(whole!.documentation).toEqual({ kind: 'markdown', value: '`````python\n"""```\n````"""\n`````' });
    // a language id cannot end the fence's first line early or open another
    const [, odd] = menuItems('', 0, [{ id: 's1', text: 'a\nb', replaceLength: 0 }], { markdown: true, languageId: 'c++ `x`\n#' });
    expect(odd!.documentation!.value).toBe('```c++x#\na\nb\n```');
  });
});
