/**
 * How many TCP connections the daemon holds: at most `total` at once and at most `perAddress` from
 * one remote address (on loopback every local client shares 127.0.0.1, so there the smaller of the
 * two applies). A connection counts from accept to close, authenticated or not, so a client that
 * opens hundreds of idle connections is refused past the limit and its idle ones time out.
 */
export interface Limits {
  total: number;
  perAddress: number;
}

export const DEFAULT_LIMITS: Limits = { total: 64, perAddress: 32 };

export class ConnectionLimits {
  private open = 0;
  private readonly byAddress = new Map<string, number>();

  constructor(private readonly limits: Limits) {}

  /** Takes a slot for `address`, or returns why it cannot (the caller refuses the connection). */
  acquire(address: string): string | null {
    if (this.open >= this.limits.total) return `too many connections (${this.open} open, the limit is ${this.limits.total})`;
    const n = this.byAddress.get(address) ?? 0;
    if (n >= this.limits.perAddress) return `too many connections from ${address} (${n} open, the limit is ${this.limits.perAddress})`;
    this.open++;
    this.byAddress.set(address, n + 1);
    return null;
  }

  release(address: string): void {
    this.open--;
    const n = (this.byAddress.get(address) ?? 1) - 1;
    if (n <= 0) this.byAddress.delete(address);
    else this.byAddress.set(address, n);
  }

  get count(): number {
    return this.open;
  }
}
