/**
 * Retention's pure parts: accepted-character intervals through edits, the edits DocumentStore
 * reports for a didChange (ranges, full text, several changes), and the tracker's checkpoints,
 * lookups, close and caps on a hand-driven clock.
 */
import { describe, expect, it } from 'vitest';
import { diffEdit, DocumentStore, type DocumentEdit } from '../../../server/src/documents.js';
import {
  applyEdit,
  CHECKPOINT_30S_MS,
  CHECKPOINT_5MIN_MS,
  LOOKUP_MS,
  MAX_INTERVALS,
  MAX_TRACKED,
  movePoint,
  RetentionTracker,
  type Interval,
} from '../../../server/src/completion/retention.js';
import { ManualSchedule } from '../../helpers/manual-schedule.js';

const edit = (start: number, end: number, inserted: number): DocumentEdit => ({ start, end, inserted });

describe('applyEdit', () => {
  const iv: Interval[] = [[10, 20]];
  it.each<[string, DocumentEdit, Interval[]]>([
    ['insert before shifts', edit(5, 5, 3), [[13, 23]]],
    ['insert at the start shifts (not accepted text)', edit(10, 10, 3), [[13, 23]]],
    ['insert inside splits', edit(15, 15, 4), [[10, 15], [19, 24]]],
    ['insert at the end leaves it', edit(20, 20, 4), [[10, 20]]],
    ['insert after leaves it', edit(25, 25, 4), [[10, 20]]],
    ['delete before shifts back', edit(2, 6, 0), [[6, 16]]],
    ['delete overlapping the start', edit(8, 13, 0), [[8, 15]]],
    ['delete overlapping the end', edit(17, 25, 0), [[10, 17]]],
    ['delete inside', edit(12, 15, 0), [[10, 12], [12, 17]]],
    ['delete the whole', edit(5, 25, 0), []],
    ['delete exactly it', edit(10, 20, 0), []],
    ['replace inside with longer text', edit(12, 14, 5), [[10, 12], [17, 23]]],
    ['replace across the start', edit(8, 12, 1), [[9, 17]]],
  ])('%s', (_, e, want) => {
    expect(applyEdit(iv, e)).toEqual(want);
  });

  it('moves each of several intervals by its own overlap', () => {
    expect(applyEdit([[0, 4], [6, 10], [12, 14]], edit(3, 7, 1))).toEqual([[0, 3], [4, 7], [9, 11]]);
  });

  it('movePoint: before and at an edit stays, after shifts, inside moves to its start', () => {
    expect(movePoint(10, edit(10, 10, 5))).toBe(10);
    expect(movePoint(10, edit(2, 4, 0))).toBe(8);
    expect(movePoint(10, edit(8, 12, 7))).toBe(8);
    expect(movePoint(10, edit(11, 12, 7))).toBe(10);
  });
});

describe('DocumentStore edits', () => {
  it('diffEdit: the span between the common prefix and suffix', () => {
    expect(diffEdit('abcdef', 'abXYef')).toEqual(edit(2, 4, 2));
    expect(diffEdit('abc', 'abcabc')).toEqual(edit(3, 3, 3));
    expect(diffEdit('aaaa', 'aa')).toEqual(edit(2, 4, 0));
    expect(diffEdit('same', 'same')).toEqual(edit(4, 4, 0));
    expect(diffEdit('', 'new')).toEqual(edit(0, 0, 3));
  });

  function store(text: string): { docs: DocumentStore; seen: DocumentEdit[][] } {
    const docs = new DocumentStore();
    const seen: DocumentEdit[][] = [];
    docs.onEdits((_, edits) => seen.push([...edits]));
    docs.open({ textDocument: { uri: 'file:///a.ts', languageId: 'typescript', version: 1, text } });
    return { docs, seen };
  }

  it('reports the changes of one didChange in order, each in the text the previous left; a full text as its diff', () => {
    const { docs, seen } = store('one\ntwo\nthree');
    const r = docs.change({
      textDocument: { uri: 'file:///a.ts', version: 2 },
      contentChanges: [
        { range: { start: { line: 1, character: 0 }, end: { line: 1, character: 3 } }, text: 'TWO!' }, // 4..7 → 4 units
        { range: { start: { line: 0, character: 3 }, end: { line: 0, character: 3 } }, text: '1' }, // insert at 3
        { range: { start: { line: 2, character: 2 }, end: { line: 1, character: 1 } }, text: '' }, // reversed range: 6..12
        { text: 'one1\nXree' }, // full text: 'one1\nTree' → 'one1\nXree'
      ],
    });
    expect(r).toBe('applied');
    expect(docs.get('file:///a.ts')!.getText()).toBe('one1\nXree');
    expect(seen).toEqual([[edit(4, 7, 4), edit(3, 3, 1), edit(6, 12, 0), edit(5, 6, 1)]]);
  });

  it('reports nothing for a stale change', () => {
    const { docs, seen } = store('x');
    expect(docs.change({ textDocument: { uri: 'file:///a.ts', version: 1 }, contentChanges: [{ text: 'y' }] })).toBe('stale');
    expect(seen).toEqual([]);
  });
});

describe('RetentionTracker', () => {
  const uri = 'file:///a.ts';
  function setup(text: string): { clock: ManualSchedule; tracker: RetentionTracker; doc: { text: string | undefined }; edit: (e: DocumentEdit, s: string) => void } {
    const clock = new ManualSchedule();
    const doc: { text: string | undefined } = { text };
    const tracker = new RetentionTracker((u) => (u === uri ? doc.text : undefined), clock.schedule);
    return {
      clock,
      tracker,
      doc,
      edit(e, s) {
        doc.text = doc.text!.slice(0, e.start) + s + doc.text!.slice(e.end);
        tracker.changed(uri, [e]);
      },
    };
  }
  const item = (id: string, offset: number, text: string) => ({ id, uri, offset, text });
  type Figures = [items: number, acceptedChars: number, retainedChars: number];
  /** figuresNow with these figures at the 30 s and the 5 min checkpoint. */
  const retentionOf = (at30s: Figures, at5min: Figures, untracked: number, tracking: number) => {
    const checkpoint = (afterSeconds: number, [items, acceptedChars, retainedChars]: Figures) => ({ afterSeconds, items, acceptedChars, retainedChars });
    return { checkpoints: [checkpoint(30, at30s), checkpoint(300, at5min)], untracked, tracking };
  };

  it('counts the surviving characters at 30 s and 5 min, then forgets the item', () => {
    const { clock, tracker, edit: change } = setup('let x = foo(1, 2);\n');
    tracker.accepted(item('s1', 8, 'foo(1, 2);'), 10);
    expect(tracker.figuresNow).toMatchObject({ tracking: 1, untracked: 0 });
    change(edit(12, 16, 0), ''); // 'let x = foo();' deletes '1, 2'
    change(edit(0, 0, 3), '// '); // shifts
    clock.advance(CHECKPOINT_30S_MS);
    expect(tracker.figuresNow.checkpoints[0]).toEqual({ afterSeconds: 30, items: 1, acceptedChars: 10, retainedChars: 6 });
    change(edit(11, 18, 0), ''); // all of 'foo();' gone
    clock.advance(CHECKPOINT_5MIN_MS - CHECKPOINT_30S_MS);
    expect(tracker.figuresNow).toEqual(retentionOf([1, 10, 6], [1, 10, 0], 0, 0));
    expect(clock.pending).toBe(0);
  });

  it('looks again after each change until LOOKUP_MS, then counts the accept as untracked', () => {
    const { clock, tracker, edit: change } = setup('ab');
    tracker.accepted(item('s1', 1, 'XYZ'), 3); // accept before the change that writes it
    change(edit(1, 1, 3), 'XYZ');
    expect(tracker.figuresNow.tracking).toBe(1);
    tracker.accepted(item('s2', 0, 'nope'), 4);
    change(edit(0, 0, 1), '!');
    clock.advance(LOOKUP_MS);
    expect(tracker.figuresNow).toMatchObject({ untracked: 1, tracking: 1 });
    change(edit(0, 0, 4), 'nope'); // too late
    clock.advance(CHECKPOINT_5MIN_MS);
    expect(tracker.figuresNow.checkpoints.map((c) => [c.items, c.acceptedChars, c.retainedChars])).toEqual([[1, 3, 3], [1, 3, 3]]);
  });

  it('a longer partial accept tracks the further characters where the earlier ones ended', () => {
    const { clock, tracker, edit: change } = setup('a\n');
    const it1 = item('s1', 1, 'bcdef');
    change(edit(1, 1, 2), 'bc');
    tracker.accepted(it1, 2);
    change(edit(3, 3, 2), 'de');
    tracker.accepted(it1, 4);
    tracker.accepted(it1, 3); // shorter: nothing new
    change(edit(0, 0, 1), '>'); // '>abcde\n'
    change(edit(6, 6, 1), 'f');
    tracker.accepted(it1, 5);
    change(edit(2, 3, 0), ''); // 'b' deleted
    clock.advance(CHECKPOINT_30S_MS);
    expect(tracker.figuresNow.checkpoints[0]).toEqual({ afterSeconds: 30, items: 1, acceptedChars: 5, retainedChars: 4 });
  });

  it('a closed document gives its remaining checkpoints the figures at close; a not found one is untracked', () => {
    const { clock, tracker, edit: change, doc } = setup('0123456789');
    tracker.accepted(item('s1', 2, '234'), 3);
    tracker.accepted(item('s2', 0, 'zz'), 2);
    clock.advance(CHECKPOINT_30S_MS);
    change(edit(2, 3, 0), '');
    doc.text = undefined;
    tracker.closed(uri);
    expect(tracker.figuresNow).toEqual(retentionOf([1, 3, 3], [1, 3, 2], 1, 0));
    expect(clock.pending).toBe(0);
  });

  it(`keeps the latest ${MAX_TRACKED} items and at most ${MAX_INTERVALS} intervals an item`, () => {
    const { clock, tracker } = setup('x'.repeat(100));
    for (let i = 0; i < MAX_TRACKED + 5; i++) tracker.accepted(item(`s${i}`, 0, 'x'), 1);
    expect(tracker.figuresNow.tracking).toBe(MAX_TRACKED);
    expect(clock.pending).toBe(MAX_TRACKED * 2);
    tracker.dispose();
    expect(clock.pending).toBe(0);

    const s = setup('y'.repeat(100));
    s.tracker.accepted(item('s1', 0, 'y'.repeat(100)), 100);
    // a character inserted after every second one: 50 pieces of two; beyond the cap the shortest
    // (the first of them, not the long head before the insertions) go
    for (let i = 98; i > 0; i -= 2) s.edit(edit(i, i, 1), '-');
    s.clock.advance(CHECKPOINT_30S_MS);
    expect(s.tracker.figuresNow.checkpoints[0]).toMatchObject({ items: 1, acceptedChars: 100, retainedChars: 2 * MAX_INTERVALS });
  });

  it('stops every timer on dispose', () => {
    const { clock, tracker } = setup('abc');
    tracker.accepted(item('s1', 0, 'abc'), 3);
    tracker.accepted(item('s2', 0, 'zzz'), 3);
    expect(clock.pending).toBe(5);
    tracker.dispose();
    expect(clock.pending).toBe(0);
  });
});
