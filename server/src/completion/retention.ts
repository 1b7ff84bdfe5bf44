/**
 * Retention: how many accepted characters are still in the document 30 s and 5 min after the
 * accept (the measure Copilot, Cody and Zed use besides acceptance). On an accept (or a partial
 * accept: its accepted length) the accepted text is looked for where the item was inserted, at
 * its request's offset; the accept may arrive before the didChange that wrote it, so it is looked
 * for again after each change of the document until LOOKUP_MS have passed (then it counts as
 * untracked). Once found, the accepted characters are kept as intervals of the current document
 * and moved through every later edit: an edit removes what it overlaps, text inserted inside them
 * is not accepted text. At each checkpoint the surviving characters are counted; a document
 * closed (or dropped) first gives its remaining checkpoints the figures at close. Only counts
 * leave this module, never text.
 */
import type { DocumentEdit } from '../documents.js';

/** When the surviving characters are counted, after the (first) accept. */
export const CHECKPOINT_30S_MS = 30_000;
export const CHECKPOINT_5MIN_MS = 300_000;
export const CHECKPOINTS_MS = [CHECKPOINT_30S_MS, CHECKPOINT_5MIN_MS] as const;
/** How long after an accept its text is looked for. */
export const LOOKUP_MS = 5_000;
/** Items tracked at once (the oldest is forgotten, uncounted) and intervals per item. */
export const MAX_TRACKED = 200;
export const MAX_INTERVALS = 32;

/** [start, end) in UTF-16 offsets of the current document. */
export type Interval = [number, number];

/** The intervals after one edit: the overlapped characters removed, those after it shifted. */
export function applyEdit(intervals: readonly Interval[], edit: DocumentEdit): Interval[] {
  const { start, end, inserted } = edit;
  const delta = inserted - (end - start);
  const out: Interval[] = [];
  for (const [a, b] of intervals) {
    if (b <= start) out.push([a, b]);
    else if (a >= end) out.push([a + delta, b + delta]);
    else {
      // overlapped (or an insertion strictly inside): the parts outside [start, end) survive
      if (a < start) out.push([a, start]);
      if (b > end) out.push([end + delta, b + delta]);
    }
  }
  return out;
}

/** A position after one edit; one inside a replaced span moves to its start. */
export function movePoint(p: number, edit: DocumentEdit): number {
  if (p <= edit.start) return p;
  if (p >= edit.end) return p + edit.inserted - (edit.end - edit.start);
  return edit.start;
}

export function intervalChars(intervals: readonly Interval[]): number {
  return intervals.reduce((n, [a, b]) => n + b - a, 0);
}

/** Beyond MAX_INTERVALS the shortest intervals go (counted as not retained). */
function capIntervals(intervals: Interval[]): void {
  const len = (i: number): number => intervals[i]![1] - intervals[i]![0];
  while (intervals.length > MAX_INTERVALS) intervals.splice(intervals.reduce((k, _, i) => (len(i) < len(k) ? i : k), 0), 1);
}

/** Starts a timer; the returned function cancels it. Injected by tests. */
export type Schedule = (fn: () => void, ms: number) => () => void;

const realSchedule: Schedule = (fn, ms) => {
  const t = setTimeout(fn, ms);
  t.unref();
  return () => clearTimeout(t);
};

export interface CheckpointFigures {
  afterSeconds: number;
  items: number;
  acceptedChars: number;
  retainedChars: number;
}

export interface RetentionFigures {
  checkpoints: CheckpointFigures[];
  /** Accepts whose text was not found where the item was inserted (within LOOKUP_MS). */
  untracked: number;
  /** Items found and waiting for a checkpoint. */
  tracking: number;
}

/** What the tracker needs of an accepted item (events.ts OfferedItem). */
export interface AcceptedItem {
  id: string;
  uri: string;
  offset: number;
  text: string;
}

interface Tracked {
  uri: string;
  text: string;
  /** Characters of `text` accepted so far (partial accepts raise it), and of them found. */
  wanted: number;
  found: number;
  /** Where the next accepted characters are expected: the end of those found. */
  anchor: number;
  intervals: Interval[];
  /** Index of the next checkpoint. */
  next: number;
  timers: (() => void)[];
  /** Cancels the lookup's deadline while accepted characters are looked for. */
  stopLooking?: () => void;
}

export class RetentionTracker {
  private readonly items = new Map<string, Tracked>();
  private readonly figures: CheckpointFigures[] = CHECKPOINTS_MS.map((ms) => ({ afterSeconds: ms / 1000, items: 0, acceptedChars: 0, retainedChars: 0 }));
  private untracked = 0;

  constructor(
    /** The current text of an open document; undefined when it is not open. */
    private readonly textOf: (uri: string) => string | undefined,
    private readonly schedule: Schedule = realSchedule,
  ) {}

  /** `length` characters of the item are accepted (the whole text, or a partial accept's). */
  accepted(item: AcceptedItem, length: number): void {
    if (length <= 0) return;
    let t = this.items.get(item.id);
    if (!t) {
      t = { uri: item.uri, text: item.text, wanted: 0, found: 0, anchor: item.offset, intervals: [], next: 0, timers: [] };
      const tracked = t;
      t.timers = CHECKPOINTS_MS.map((ms, i) => this.schedule(() => this.checkpoint(item.id, tracked, i), ms));
      this.items.set(item.id, t);
      if (this.items.size > MAX_TRACKED) this.forget(this.items.keys().next().value!);
    }
    if (length <= t.wanted) return;
    t.wanted = Math.min(length, t.text.length);
    t.stopLooking?.();
    if (this.look(t)) return;
    const tracked = t;
    t.stopLooking = this.schedule(() => this.giveUp(item.id, tracked), LOOKUP_MS);
  }

  /** The document's edits of one didChange, in order; then looks again for text not found yet. */
  changed(uri: string, edits: readonly DocumentEdit[]): void {
    for (const t of this.items.values()) {
      if (t.uri !== uri) continue;
      for (const edit of edits) {
        t.intervals = applyEdit(t.intervals, edit);
        t.anchor = movePoint(t.anchor, edit);
      }
      capIntervals(t.intervals);
      if (t.wanted > t.found) this.look(t);
    }
  }

  /** The document was closed or dropped: its items take their remaining checkpoints now. */
  closed(uri: string): void {
    for (const [id, t] of this.items) {
      if (t.uri !== uri) continue;
      if (t.found === 0) this.untracked++;
      else while (t.next < CHECKPOINTS_MS.length) this.count(t);
      this.forget(id);
    }
  }

  get figuresNow(): RetentionFigures {
    let tracking = 0;
    for (const t of this.items.values()) if (t.found > 0) tracking++;
    return { checkpoints: this.figures.map((f) => ({ ...f })), untracked: this.untracked, tracking };
  }

  dispose(): void {
    for (const id of [...this.items.keys()]) this.forget(id);
  }

  /** Whether the characters accepted but not found yet are at the anchor; if so they are tracked. */
  private look(t: Tracked): boolean {
    const part = t.text.slice(t.found, t.wanted);
    if (!this.textOf(t.uri)?.startsWith(part, t.anchor)) return false;
    const last = t.intervals.at(-1);
    if (last && last[1] === t.anchor) last[1] += part.length;
    else t.intervals.push([t.anchor, t.anchor + part.length]);
    capIntervals(t.intervals);
    t.anchor += part.length;
    t.found = t.wanted;
    t.stopLooking?.();
    t.stopLooking = undefined;
    return true;
  }

  private giveUp(id: string, t: Tracked): void {
    t.stopLooking = undefined;
    if (t.found > 0) {
      t.wanted = t.found; // a later partial accept not found: the earlier part stays tracked
      return;
    }
    this.untracked++;
    this.forget(id);
  }

  private checkpoint(id: string, t: Tracked, i: number): void {
    if (this.items.get(id) !== t || t.next !== i) return;
    this.count(t);
    if (t.next === CHECKPOINTS_MS.length) this.forget(id);
  }

  private count(t: Tracked): void {
    const f = this.figures[t.next++]!;
    f.items++;
    f.acceptedChars += t.found;
    f.retainedChars += intervalChars(t.intervals);
  }

  private forget(id: string): void {
    const t = this.items.get(id);
    if (!t) return;
    for (const cancel of t.timers) cancel();
    t.stopLooking?.();
    this.items.delete(id);
  }
}
