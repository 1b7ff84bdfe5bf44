/**
 * What was offered, shown and accepted (Copilot's didShowCompletion, didPartiallyAcceptCompletion
 * and accept command). Each returned item gets an id carried in its command's arguments; the
 * records are kept in a bounded map (the latest 200) so that late events find their item, and
 * the counts are reported by slipstream/status (accepted alternatives of an invoked request, the
 * items after its first, also on their own). An item that answers the same document version and
 * cursor as the one offered just before it there, with that one's text and more (an early answer
 * grown to the whole suggestion: time-budget.ts), is the same suggestion growing: shown once.
 * Each item's offset follows its document's edits after the offer (an edit before the cursor
 * between the offer and the accept shifts it), so that retention.ts, which measures what stays
 * of the accepted text, looks for it where it was inserted.
 */
import type { DocumentEdit } from '../documents.js';
import { movePoint } from './retention.js';

export interface OfferedItem {
  id: string;
  uri: string;
  version: number | null;
  /** UTF-16 offset of the cursor the item was computed for, moved through the document's edits since (edited). */
  offset: number;
  text: string;
  /** A further suggestion of an invoked request (completion.alternatives), not its first. */
  alternative: boolean;
  /** The id of the item this one grows (the same version and cursor, its text and more). */
  grows?: string;
  shownAt?: number;
  acceptedAt?: number;
  acceptedLength?: number;
}

const MAX_ITEMS = 200;

export class CompletionEvents {
  private readonly items = new Map<string, OfferedItem>();
  /** The last item offered for each document. */
  private readonly lastOf = new Map<string, string>();
  private next = 1;
  readonly counts = { shown: 0, accepted: 0, acceptedAlternatives: 0, partiallyAccepted: 0 };

  offer(item: Omit<OfferedItem, 'id' | 'grows'>): OfferedItem {
    const before = this.items.get(this.lastOf.get(item.uri) ?? '');
    const grows = before && !item.alternative && !before.alternative && item.version !== null && before.version === item.version && before.offset === item.offset && item.text.length > before.text.length && item.text.startsWith(before.text);
    const rec: OfferedItem = { id: `s${this.next++}`, ...item, ...(grows ? { grows: before.id } : {}) };
    this.items.set(rec.id, rec);
    if (!item.alternative) this.lastOf.set(item.uri, rec.id);
    if (this.items.size > MAX_ITEMS) {
      const oldest = this.items.keys().next().value!;
      this.items.delete(oldest);
      for (const [uri, id] of this.lastOf) if (id === oldest) this.lastOf.delete(uri);
    }
    return rec;
  }

  shown(id: string): boolean {
    const rec = this.items.get(id);
    if (!rec) return false;
    // the suggestion it grows was counted when it was shown
    const grown = rec.grows !== undefined && this.items.get(rec.grows)?.shownAt !== undefined;
    if (rec.shownAt === undefined && !grown) this.counts.shown++;
    rec.shownAt = Date.now();
    return true;
  }

  /** The edits of one didChange of uri, in order: its items' offsets move through them (an edit at or after an offset leaves it). */
  edited(uri: string, edits: readonly DocumentEdit[]): void {
    for (const rec of this.items.values()) {
      if (rec.uri === uri) for (const edit of edits) rec.offset = movePoint(rec.offset, edit);
    }
  }

  /** The item, undefined when unknown. */
  accepted(id: string): OfferedItem | undefined {
    const rec = this.items.get(id);
    if (!rec) return undefined;
    this.counts.accepted++;
    if (rec.alternative) this.counts.acceptedAlternatives++;
    rec.acceptedAt = Date.now();
    rec.acceptedLength = rec.text.length;
    return rec;
  }

  /** The item (its acceptedLength the longest accepted so far), undefined when unknown. */
  partiallyAccepted(id: string, length: number): OfferedItem | undefined {
    const rec = this.items.get(id);
    if (!rec) return undefined;
    this.counts.partiallyAccepted++;
    rec.acceptedLength = Math.max(rec.acceptedLength ?? 0, Math.min(length, rec.text.length));
    return rec;
  }
}
