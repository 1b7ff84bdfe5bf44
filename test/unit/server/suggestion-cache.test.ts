/**
 * The suggestion cache (server/src/completion/suggestion-cache.ts) and the session pool
 * (session-pool.ts): typing through returns exactly the rest of a suggestion, for several
 * positions and documents; a divergence gives the old suggestion's rest re-aligned to the new text;
 * the LRU bound evicts and disposes; the pool stays under its byte budget and never drops a
 * session in use; a running generation is matched by a request that types what it produces.
 */
import { describe, expect, it } from 'vitest';
import { drafts, stableAfter, SuggestionCache } from '../../../server/src/completion/suggestion-cache.js';
import { SessionPool } from '../../../server/src/completion/session-pool.js';
import { RunningGenerations, waitFor } from '../../../server/src/completion/attachment.js';

/** A running generation's post-processing for these tests: the text as it is. */
const shownAsIs = (t: string): { text: string; replaceLength: number } => ({ text: t, replaceLength: 0 });

describe('suggestion cache: typing through', () => {
  it('answers exactly the rest of the suggestion for every prefix typed, and nothing past a divergence', () => {
    const c = new SuggestionCache();
    const doc = 'let x = ;\nnext();\n';
    const at = 8;
    c.remember('d', doc, at, 'compute(1)', 0);
    const s = 'compute(1)';
    for (let k = 0; k < s.length; k++) {
      const typed = doc.slice(0, at) + s.slice(0, k) + doc.slice(at);
      expect(c.lookup('d', typed, at + k)).toMatchObject({ text: s.slice(k), replaceLength: 0 });
    }
    // typed all of it: nothing left to offer (the next request goes to the engine)
    expect(c.lookup('d', doc.slice(0, at) + s + doc.slice(at), at + s.length)).toBeUndefined();
    expect(c.lookup('d', 'let x = cat;\nnext();\n', 11)).toBeUndefined();
    expect(c.lookup('d', 'let y = com;\nnext();\n', 11)).toBeUndefined();
    // another document with the same text has its own entries
    expect(c.lookup('e', 'let x = com;\nnext();\n', 11)).toBeUndefined();
    expect([c.hits, c.misses]).toEqual([s.length, 4]);
  });

  it('keeps suggestions of several positions and documents', () => {
    const c = new SuggestionCache();
    c.remember('a', 'f(\n', 2, 'x, y)', 0);
    c.remember('a', 'g = \n', 4, '42;', 0);
    c.remember('b', 'f(\n', 2, 'z)', 0);
    expect(c.lookup('a', 'f(x\n', 3)?.text).toBe(', y)');
    expect(c.lookup('a', 'g = 4\n', 5)?.text).toBe('2;');
    expect(c.lookup('b', 'f(z\n', 3)?.text).toBe(')');
    expect(c.size).toBe(3);
  });

  it('ignores an edit below the cursor past the last line end it keeps, and misses when the line after the cursor changed', () => {
    const c = new SuggestionCache();
    const below = 'line\n'.repeat(100);
    c.remember('d', 'x = ' + '\n' + below, 4, 'one', 0);
    expect(stableAfter('x = \n' + below, 4).length).toBeLessThanOrEqual(256);
    expect(c.lookup('d', 'x = o\n' + below.slice(0, 400) + 'changed', 5)?.text).toBe('ne');
    expect(c.lookup('d', 'x = o;\n' + below, 5)).toBeUndefined();
  });
});

describe('suggestion cache: divergence', () => {
  it('re-aligns the rest of a suggestion to a replaced word, a substitution and an insertion', () => {
    // the user replaced the argument: the rest after the replaced word
    expect(drafts('foo(bar, baz)', 'foo(qux,')[0]).toBe(' baz)');
    // still typing their own word: the rest after the suggestion's word
    expect(drafts('foo(bar, baz)', 'foo(qu')).toContain(', baz)');
    // a substitution of one character, and an insertion
    expect(drafts('value + 1;', 'valuE')).toContain(' + 1;');
    expect(drafts('a + b;', 'a  ')).toContain('+ b;');
    // nothing to re-align after the suggestion's end: no empty drafts
    expect(drafts('ab', 'ax').every((d) => d.length > 0)).toBe(true);
  });

  it('offers drafts from the entry the user diverged from, none while typing through', () => {
    const c = new SuggestionCache();
    const doc = 'call();\n';
    c.remember('d', doc, 5, 'bar, baz', 0);
    expect(c.divergedDrafts('d', 'call(ba);\n', 7)).toEqual([]);
    expect(c.divergedDrafts('d', 'call(qux,);\n', 9)[0]).toBe(' baz');
    expect(c.divergedDrafts('other', 'call(qux,);\n', 9)).toEqual([]);
  });
});

describe('suggestion cache: bound and dispose', () => {
  it('evicts the least recently used entry past its size, and dispose drops it from its document', () => {
    const c = new SuggestionCache(2);
    c.remember('a', 'x\n', 1, 'one', 0);
    c.remember('b', 'x\n', 1, 'two', 0);
    expect(c.lookup('a', 'xo\n', 2)?.text).toBe('ne'); // a is now the most recent
    c.remember('c', 'x\n', 1, 'three', 0);
    expect(c.size).toBe(2);
    expect(c.disposed).toBe(1);
    expect(c.lookup('b', 'xt\n', 2)).toBeUndefined();
    expect(c.lookup('a', 'xo\n', 2)?.text).toBe('ne');
    c.forget('a');
    expect(c.size).toBe(1);
    expect(c.disposed).toBe(2);
    expect(c.lookup('a', 'xo\n', 2)).toBeUndefined();
  });
});

/** A FAKE session: a token count and whether it was disposed. */
class FakeSession {
  disposed = false;
  constructor(public length: number) {}
  dispose(): void {
    this.disposed = true;
  }
}

describe('session pool', () => {
  it('stays under its byte budget with many documents, dropping the least recently used', () => {
    const pool = new SessionPool<FakeSession>(10, 1000); // 10 bytes a token, 100 tokens in all
    const made: FakeSession[] = [];
    for (let i = 0; i < 20; i++) {
      const h = pool.acquire(`doc${i}`, () => {
        const s = new FakeSession(0);
        made.push(s);
        return s;
      });
      h.session.length = 30; // the generation committed 30 tokens
      h.release();
      expect(pool.bytes()).toBeLessThanOrEqual(1000);
    }
    expect(pool.size).toBe(3);
    expect(pool.evictions).toBe(17);
    expect(made.filter((s) => s.disposed)).toHaveLength(17);
    expect(made.slice(-3).every((s) => !s.disposed)).toBe(true);
  });

  it('never drops a session in use, even when it alone is over the budget', () => {
    const pool = new SessionPool<FakeSession>(10, 100);
    const a = pool.acquire('a', () => new FakeSession(5));
    a.release();
    const b = pool.acquire('b', () => new FakeSession(50));
    expect(b.session.disposed).toBe(false);
    expect(a.session.disposed).toBe(true);
    expect(pool.size).toBe(1);
    b.release(); // over the budget and no longer in use: out
    expect(b.session.disposed).toBe(true);
    expect(pool.figures()).toMatchObject({ bytes: 0, budgetBytes: 100, sessions: 0, evictions: 2 });
  });

  it('counts only the tokens a session does not read in place from the engine\'s block pool', () => {
    const pool = new SessionPool<FakeSession>(10, 1000);
    const a = pool.acquire('a', () => Object.assign(new FakeSession(80), { sharedLength: 64 }));
    expect(pool.bytes()).toBe(16 * 10); // 64 of its 80 tokens are the pool's bytes
    const b = pool.acquire('b', () => Object.assign(new FakeSession(70), { sharedLength: 0 }));
    expect(pool.bytes()).toBe((16 + 70) * 10);
    a.release();
    b.release();
    expect(pool.size).toBe(2); // 150 tokens would be 1500 bytes, over the budget; the sessions' own are 860
  });
});

describe('running generations (attachment)', () => {
  it('matches a request that typed, at the cursor, what the generation produced or is producing', () => {
    const running = new RunningGenerations();
    const { gen, end } = running.start('d', 'let a = ;\n', 8, new AbortController(), shownAsIs);
    gen.partial = 'val';
    expect(running.extendedBy('d', 'let a = va;\n', 10)).toBe(gen); // typed what it produced
    expect(running.extendedBy('d', 'let a = value;\n', 13)).toBe(gen); // typed past it, agreeing so far
    expect(running.extendedBy('d', 'let a = vx;\n', 10)).toBeUndefined(); // disagrees
    expect(running.extendedBy('d', 'let b = va;\n', 10)).toBeUndefined(); // other text changed
    expect(running.extendedBy('d', 'let a = ;\n', 8)).toBe(gen); // nothing typed: the same request again (after an accept a prefetch computes)
    expect(running.extendedBy('d', 'let a = ;\n', 7)).toBeUndefined(); // the cursor moved back
    expect(running.extendedBy('e', 'let a = va;\n', 10)).toBeUndefined(); // another document
    end();
    expect(running.extendedBy('d', 'let a = va;\n', 10)).toBeUndefined();
  });

  it('waits for the generation, bounded', async () => {
    const running = new RunningGenerations();
    const a = running.start('d', 'x', 1, new AbortController(), shownAsIs);
    const waited = waitFor(a.gen, 10_000, new AbortController().signal);
    a.end();
    expect(await waited).toBe(true);
    const b = running.start('d', 'x', 1, new AbortController(), shownAsIs);
    expect(await waitFor(b.gen, 1, new AbortController().signal)).toBe(false);
    b.end();
  });
});
