/**
 * The time budget of an automatic suggestion (completion.timeBudgetMs): once the budget has passed
 * since the request arrived, the text generated so far becomes the answer as soon as it is worth
 * showing (a whole first line, or enough of it: confidence.ts worthShowingCut); the provider then
 * lets the generation finish in the background into the suggestion cache. No engine here: the
 * provider feeds the text as it grows (update) and races `reached` against the generation.
 */
import { nowMs } from '../trace/clock.js';

export class TimeBudget {
  /** Resolves with the text to answer with, once the budget has passed and the text is worth showing. */
  readonly reached: Promise<string>;
  private text = '';
  private settled = false;
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
    this.timer = setTimeout(() => this.check(), Math.max(0, deadline - nowMs()));
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
    if (this.settled || nowMs() < this.deadline || !this.showable(this.text)) return;
    this.dispose();
    this.settle(this.text);
  }
}
