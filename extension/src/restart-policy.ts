/**
 * When the server dies: restart it after a growing delay (1 s, 2 s, 4 s, 8 s), and give up with a
 * clear message after MAX_CRASHES crashes within WINDOW_MS. Pure (no vscode), so it is unit-tested;
 * client.ts plugs it into vscode-languageclient's error handler.
 */

export const MAX_CRASHES = 5;
export const WINDOW_MS = 3 * 60_000;
const FIRST_DELAY_MS = 1000;

export type RestartDecision = { restart: true; delayMs: number } | { restart: false; message: string };

export class RestartPolicy {
  private crashes: number[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  /** Records a crash and says whether (and after how long) to restart. */
  crashed(): RestartDecision {
    const t = this.now();
    this.crashes = this.crashes.filter((c) => t - c <= WINDOW_MS);
    this.crashes.push(t);
    const n = this.crashes.length;
    if (n >= MAX_CRASHES) {
      return {
        restart: false,
        message: `The Slipstream server stopped ${n} times in ${Math.round(WINDOW_MS / 60_000)} minutes and will not be restarted. See the Slipstream log for why; "Slipstream: Restart Server" tries again.`,
      };
    }
    return { restart: true, delayMs: FIRST_DELAY_MS * 2 ** (n - 1) };
  }

  /** A restart by hand starts counting afresh. */
  reset(): void {
    this.crashes = [];
  }
}
