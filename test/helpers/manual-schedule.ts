/**
 * A hand-driven Schedule (completion/retention.ts) for tests: timers fire only when advance()
 * passes their time, in time order.
 */
import type { Schedule } from '../../server/src/completion/retention.js';

export class ManualSchedule {
  now = 0;
  private timers: { at: number; fn: () => void; seq: number }[] = [];
  private seq = 0;

  readonly schedule: Schedule = (fn, ms) => {
    const timer = { at: this.now + ms, fn, seq: this.seq++ };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  };

  /** Timers not fired nor cancelled. */
  get pending(): number {
    return this.timers.length;
  }

  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.now = due.at;
      due.fn();
    }
    this.now = until;
  }
}
