/**
 * The pieces of prefetch (issue 14): the document after accepting a suggestion (prefetch.ts) and the
 * engine's admission of background work (background-gate.ts).
 */
import { describe, expect, it } from 'vitest';
import { BackgroundGate } from '../../../server/src/completion/background-gate.js';
import type { GenerateRequest } from '../../../server/src/completion/engine-host.js';
import { afterAcceptance } from '../../../server/src/completion/prefetch.js';

const req = (background: boolean): GenerateRequest => ({
  key: 'k', prompt: new Int32Array(), maxTokens: 1, stopTokens: [], temperature: 0, signal: new AbortController().signal, background,
});

describe('afterAcceptance', () => {
  it('inserts the suggestion at the cursor and moves the cursor past it', () => {
    expect(afterAcceptance('let a = \n', 8, 'value;', 0)).toEqual({ text: 'let a = value;\n', offset: 14 });
  });
  it('replaces the characters the suggestion covers after the cursor', () => {
    // an auto-closed ")" the suggestion includes
    expect(afterAcceptance('f()\n', 2, 'x, y)', 1)).toEqual({ text: 'f(x, y)\n', offset: 7 });
  });
});

describe('BackgroundGate', () => {
  it('admits background work only on an idle engine', () => {
    const gate = new BackgroundGate();
    expect(gate.idle).toBe(true);
    const fg = gate.enter(req(false));
    expect(gate.idle).toBe(false);
    const bg = gate.enter(req(true));
    expect(bg.signal.aborted).toBe(true);
    bg.leave();
    fg.leave();
    expect(gate.idle).toBe(true);
  });
  it('ends running background work when any other generation arrives, and only that', () => {
    const gate = new BackgroundGate();
    const bg = gate.enter(req(true));
    expect(bg.signal.aborted).toBe(false);
    const fg = gate.enter(req(false));
    expect(bg.signal.aborted).toBe(true);
    expect(fg.signal.aborted).toBe(false);
    bg.leave();
    bg.leave(); // twice: counted once
    fg.leave();
    expect(gate.idle).toBe(true);
  });
  it('passes the request\'s own abort through', () => {
    const gate = new BackgroundGate();
    const ac = new AbortController();
    const bg = gate.enter({ ...req(true), signal: ac.signal });
    ac.abort('cancelled');
    expect(bg.signal.aborted).toBe(true);
    bg.leave();
  });
});
