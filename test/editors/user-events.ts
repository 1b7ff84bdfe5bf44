/**
 * The plugins' User events as an editor session receives them (RPC notifications from Neovim,
 * channel messages from Vim), and waiting for one: every wait in the editor tests is on an event,
 * never on a sleep, and a timeout says why its length is enough and what the editor reported.
 */
export class UserEvents {
  private readonly names: string[] = [];
  private waiters: (() => void)[] = [];

  constructor(
    private readonly editor: string,
    /** What to print when a wait times out (the editor's messages, the server's log). */
    private readonly diagnose: () => Promise<string>,
  ) {}

  push(name: string): void {
    this.names.push(name);
    for (const w of this.waiters.splice(0)) w();
  }

  /** Index of the next event; pass to waitFor to wait only for later ones. */
  mark(): number {
    return this.names.length;
  }

  /** The events that arrived from index `since` on, in order. */
  since(since: number): string[] {
    return this.names.slice(since);
  }

  /** Resolves when `event` arrives (at index >= since); rejects after timeoutMs, saying why. */
  async waitFor(event: string, since: number, timeoutMs: number, why: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(async () => {
        const seen = this.names.slice(since).join(', ') || 'none';
        reject(new Error(`${this.editor}: no User ${event} within ${timeoutMs} ms (${why}); events so far: ${seen}; ${await this.diagnose().catch(String)}`));
      }, timeoutMs);
    });
    const arrived = async (): Promise<void> => {
      while (!this.names.slice(since).includes(event)) await new Promise<void>((r) => this.waiters.push(r));
    };
    try {
      await Promise.race([arrived(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
