/**
 * The time budget of an automatic suggestion (completion.timeBudgetMs): once the budget has passed
 * since the request arrived, the text generated so far becomes the answer as soon as it is worth
 * showing (a whole first line, or enough of it: confidence.ts worthShowingCut); the provider then
 * lets the generation finish in the background into the suggestion cache. Beyond the first line
 * only whole lines are shown (earlyPart): the filters judge lines (a repeated line, the end of the
 * indentation scope), and a line half written may be one the whole suggestion drops. No engine
 * here: the provider feeds the text as it grows (update) and races `reached` against the generation.
 */
import { nowMs } from '../trace/clock.js';

/**
 * What of a generation's text so far an early answer shows: up to its last line break, when that
 * lies at or past `from` (the text before `from` is already typed), else all of it (the line the
 * cursor is on, written so far).
 */
export function earlyPart(partial: string, from = 0): string {
  const nl = partial.lastIndexOf('\n');
  return nl >= from ? partial.slice(0, nl + 1) : partial;
}

export class TimeBudget {
  /** Resolves with the text to answer with, once the budget has passed and the text is worth showing. */
  readonly reached: Promise<string>;
  private text = '';
  private settled = false;
  /** The budget has ended (its timer fired: timers may fire a little before the clock reads the deadline). */
  private due = false;
  private settle!: (text: string) => void;
  private readonly timer: NodeJS.Timeout;

  /**
   * @param deadline when the budget ends (trace clock, ms)
   * @param showable whether a text generated so far is worth showing as it is
   */
  constructor(
    private readonly deadline: number,
    private readonly showable: (text: string) => boolean,
  ) {
    this.reached = new Promise((resolve) => (this.settle = resolve));
    // the text may already be worth showing when the budget ends between two engine steps
    this.timer = setTimeout(() => {
      this.due = true;
      this.check();
    }, Math.max(0, deadline - nowMs()));
    this.timer.unref();
  }

  /** The generated text so far (it only grows). */
  update(text: string): void {
    this.text = text;
    this.check();
  }

  /** The generation ended before the budget did: nothing more to watch. */
  dispose(): void {
    this.settled = true;
    clearTimeout(this.timer);
  }

  private check(): void {
    if (this.settled || !(this.due || nowMs() >= this.deadline) || !this.showable(this.text)) return;
    this.dispose();
    this.settle(this.text);
  }
}
