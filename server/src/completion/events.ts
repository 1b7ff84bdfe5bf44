/**
 * What was offered, shown and accepted (Copilot's didShowCompletion, didPartiallyAcceptCompletion
 * and accept command). Each returned item gets an id carried in its command's arguments; the
 * records are kept in a bounded map (the latest 200) so that late events find their item, and
 * the counts are reported by slipstream/status (accepted alternatives of an invoked request, the
 * items after its first, also on their own). What stays of the accepted text: retention.ts.
 */

export interface OfferedItem {
  id: string;
  uri: string;
  version: number | null;
  /** UTF-16 offset of the cursor the item was computed for. */
  offset: number;
  text: string;
  /** A further suggestion of an invoked request (completion.alternatives), not its first. */
  alternative: boolean;
  shownAt?: number;
  acceptedAt?: number;
  acceptedLength?: number;
}

const MAX_ITEMS = 200;

export class CompletionEvents {
  private readonly items = new Map<string, OfferedItem>();
  private next = 1;
  readonly counts = { shown: 0, accepted: 0, acceptedAlternatives: 0, partiallyAccepted: 0 };

  offer(item: Omit<OfferedItem, 'id'>): OfferedItem {
    const rec = { id: `s${this.next++}`, ...item };
    this.items.set(rec.id, rec);
    if (this.items.size > MAX_ITEMS) this.items.delete(this.items.keys().next().value!);
    return rec;
  }

  shown(id: string): boolean {
    const rec = this.items.get(id);
    if (!rec) return false;
    if (rec.shownAt === undefined) this.counts.shown++;
    rec.shownAt = Date.now();
    return true;
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
