/**
 * Shared pieces of the engine parity tests: temporary random-model folders, draining a
 * Session.generate iterator, a few code prompts, and comparing engine logits (float32 rows) bit for bit with each other
 * and with the float64 reference.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type MakeRandomModelOptions, makeRandomModel } from '../../bench/make-random-model.js';
import type { GenerateOptions, GenerateResult, Session } from '../../native/lib/index.js';

const made: string[] = [];

/** Writes a random model into a fresh temp folder; removeTempModels() deletes them all. */
export function tempModel(opts: MakeRandomModelOptions): string {
  const dir = mkdtempSync(join(tmpdir(), 'slipstream-model-'));
  made.push(dir);
  makeRandomModel(dir, opts);
  return dir;
}

export function removeTempModels(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** The chunks and the final result of an async generator (Session.generate). */
export async function drain<C, R>(gen: AsyncGenerator<C, R>): Promise<{ chunks: C[]; result: R }> {
  const chunks: C[] = [];
  for (;;) {
    const r = await gen.next();
    if (r.done) return { chunks, result: r.value };
    chunks.push(r.value);
  }
}

/** max |a[row*width + j] - b[j]| over one row of a row-major (rows, width) array. */
/** Session.generate run to its end: its result. */
export async function generateAll(session: Session, prompt: Int32Array, opts: GenerateOptions): Promise<GenerateResult> {
  return (await drain(session.generate(prompt, opts))).result;
}

/** Short TypeScript prompts the quantized-weight tests decode with the shipped model. */
export const CODE_PROMPTS = [
  'export function clamp(x: number, lo: number, hi: number): number {\n  return ',
  "import { readFileSync } from 'node:fs';\n\nconst config = JSON.parse(",
  'class LRUCache<K, V> {\n  private map = new Map<K, V>();\n',
];

export function maxRowDiff(a: Float32Array, row: number, b: ArrayLike<number>): number {
  const width = b.length;
  let m = 0;
  for (let j = 0; j < width; j++) m = Math.max(m, Math.abs(a[row * width + j] - b[j]));
  return m;
}

/**
 * Where row `row` of a row-major (rows, width) float32 array and b (width) first differ bit for bit
 * (so +0 vs -0 and NaN payloads count), as "index j: a vs b"; null when they are identical.
 */
export function firstBitDifference(a: Float32Array, row: number, b: Float32Array): string | null {
  const width = b.length;
  const ab = new Uint32Array(a.buffer, a.byteOffset + row * width * 4, width);
  const bb = new Uint32Array(b.buffer, b.byteOffset, width);
  for (let j = 0; j < width; j++) if (ab[j] !== bb[j]) return `index ${j}: ${a[row * width + j]} vs ${b[j]}`;
  return null;
}

export function maxAbs(b: ArrayLike<number>): number {
  let m = 0;
  for (let j = 0; j < b.length; j++) m = Math.max(m, Math.abs(b[j]));
  return m;
}

export function range(n: number, from = 0): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => from + i);
}

/** Deterministic pseudo-random token ids in [lo, hi). */
export function tokenIds(n: number, seed: number, lo: number, hi: number): Int32Array {
  let a = seed >>> 0;
  return Int32Array.from({ length: n }, () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return lo + (a % (hi - lo));
  });
}
