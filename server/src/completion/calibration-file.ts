/**
 * The code mode auto's calibration (mode-calibration.ts) puts above the cursor of its built-in
 * prompts, so that it measures decoding at about the prompt length requests have (a file above
 * the cursor filling the prompt budget) rather than on a few lines: the cost of attention, and so
 * of each verified tree row, grows with the context. Ordinary TypeScript of the kind users edit;
 * its last tokens are used, repeated from the start when a model's budget asks for more.
 */
export const CALIBRATION_FILE = `import { EventEmitter } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';

export interface RetryOptions {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  shouldRetry?: (err: unknown) => boolean;
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 5, baseDelayMs: 100, maxDelayMs: 5000 };

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const aborted = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', aborted);
      resolve();
    }, ms);
    signal?.addEventListener('abort', aborted, { once: true });
  });
}

export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = DEFAULT_RETRY, signal?: AbortSignal): Promise<T> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= options.attempts; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      lastError = err;
      if (options.shouldRetry && !options.shouldRetry(err)) break;
      if (attempt === options.attempts) break;
      const delay = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
      await sleep(delay * (0.5 + Math.random() / 2), signal);
    }
  }
  throw lastError;
}

export class Histogram {
  private readonly counts: number[];
  private total = 0;

  constructor(private readonly bounds: readonly number[]) {
    if (bounds.some((b, i) => i > 0 && b <= bounds[i - 1]!)) throw new RangeError('bounds must increase');
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  record(value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]!) i++;
    this.counts[i]!++;
    this.total++;
  }

  quantile(q: number): number {
    if (this.total === 0) return NaN;
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= q * this.total) return i < this.bounds.length ? this.bounds[i]! : Infinity;
    }
    return Infinity;
  }

  toJSON(): { bounds: readonly number[]; counts: number[]; total: number } {
    return { bounds: this.bounds, counts: [...this.counts], total: this.total };
  }
}

export interface TokenBucketOptions {
  capacity: number;
  refillPerSecond: number;
}

export class TokenBucket {
  private tokens: number;
  private last = Date.now();

  constructor(private readonly options: TokenBucketOptions) {
    this.tokens = options.capacity;
  }

  private refill(now: number): void {
    const elapsed = (now - this.last) / 1000;
    this.tokens = Math.min(this.options.capacity, this.tokens + elapsed * this.options.refillPerSecond);
    this.last = now;
  }

  tryTake(count = 1): boolean {
    this.refill(Date.now());
    if (this.tokens < count) return false;
    this.tokens -= count;
    return true;
  }

  msUntil(count = 1): number {
    this.refill(Date.now());
    if (this.tokens >= count) return 0;
    return Math.ceil(((count - this.tokens) / this.options.refillPerSecond) * 1000);
  }
}

export interface Job<T> {
  id: string;
  run: (signal: AbortSignal) => Promise<T>;
}

export class JobQueue<T> extends EventEmitter {
  private readonly pending: Job<T>[] = [];
  private running = 0;
  private readonly controller = new AbortController();

  constructor(private readonly concurrency: number, private readonly bucket?: TokenBucket) {
    super();
  }

  push(job: Job<T>): void {
    this.pending.push(job);
    this.emit('queued', job.id, this.pending.length);
    void this.pump();
  }

  stop(): void {
    this.controller.abort(new Error('queue stopped'));
    this.pending.length = 0;
  }

  private async pump(): Promise<void> {
    while (this.running < this.concurrency && this.pending.length > 0) {
      if (this.bucket && !this.bucket.tryTake()) {
        await sleep(this.bucket.msUntil(), this.controller.signal).catch(() => undefined);
        continue;
      }
      const job = this.pending.shift()!;
      this.running++;
      job
        .run(this.controller.signal)
        .then((result) => this.emit('done', job.id, result))
        .catch((err: unknown) => this.emit('failed', job.id, err))
        .finally(() => {
          this.running--;
          void this.pump();
        });
    }
  }
}

export async function loadJson<T>(path: string, fallback: T): Promise<T> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return fallback;
    throw err;
  }
}

export async function saveJson(path: string, value: unknown): Promise<void> {
  const text = JSON.stringify(value, null, 2) + '\\n';
  await writeFile(path + '.tmp', text, 'utf8');
  await writeFile(path, text, 'utf8');
}

export function groupBy<T, K extends string | number>(items: readonly T[], key: (item: T) => K): Record<K, T[]> {
  const out = {} as Record<K, T[]>;
  for (const item of items) {
    const k = key(item);
    (out[k] ??= []).push(item);
  }
  return out;
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  if (size < 1) throw new RangeError('size must be at least 1');
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

`;
