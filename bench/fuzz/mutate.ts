/**
 * Structure-aware mutations of JSON values for the fuzzer: replace a value somewhere in a params
 * tree with an interesting one of another type, delete a key, add a key named after an
 * Object.prototype member, or nest a value deeper than any schema expects (up to 100,000 levels,
 * written by `serialize` without recursion). Pure functions of a seeded random source.
 */

export type Rng = () => number;

/** A value nested `depth` objects deep, written by `serialize` as text (JSON.stringify would overflow). */
export class Deep {
  constructor(readonly depth: number) {}
}

export const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', 'toJSON'];

export const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
export const int = (rng: Rng, lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));

/** Values that break naive code: fractions, negatives, overflows, wrong types, odd strings, depth. */
export function interestingValue(rng: Rng): unknown {
  return pick(rng, [
    () => -1,
    () => 0.5,
    () => 2 ** 31,
    () => 2 ** 31 - 1,
    () => 2 ** 53 + 2,
    () => -(2 ** 31) - 1,
    () => 1e308,
    () => -0,
    () => '',
    () => 'x'.repeat(int(rng, 1, 100_000)),
    () => '\ud800',
    () => '\u0000\u001f',
    () => '😀\r\n中',
    () => null,
    () => true,
    () => [],
    () => [1, 'a', null],
    () => ({}),
    () => ({ line: 0, character: 0 }),
    () => pick(rng, PROTOTYPE_NAMES),
    () => new Deep(pick(rng, [8, 63, 65, 1000, 100_000])),
  ])();
}

type Container = Record<string, unknown> | unknown[];

/** Every object or array inside `value` (value included), with the depth it is at. */
function containers(value: unknown): Container[] {
  const out: Container[] = [];
  const stack = [value];
  while (stack.length > 0 && out.length < 10_000) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null || v instanceof Deep) continue;
    out.push(v as Container);
    for (const c of Array.isArray(v) ? v : Object.values(v)) stack.push(c);
  }
  return out;
}

export type MutationName = 'replace-value' | 'delete-key' | 'prototype-key' | 'deep-nesting' | 'wrong-type';

/**
 * One mutation of a copy of `value` (a params object); returns the copy and what was done.
 * A value with no object inside is replaced whole.
 */
export function mutate(value: unknown, rng: Rng): { value: unknown; mutation: MutationName } {
  const root = structuredClone(value) as unknown;
  const nodes = containers(root);
  if (nodes.length === 0) return { value: interestingValue(rng), mutation: 'replace-value' };
  const node = pick(rng, nodes);
  const keys: (string | number)[] = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
  const set = (k: string | number, v: unknown): void => {
    if (Array.isArray(node)) node[k as number] = v;
    else Object.defineProperty(node, k as string, { value: v, enumerable: true, writable: true, configurable: true });
  };
  const mutation = pick<MutationName>(rng, ['replace-value', 'replace-value', 'delete-key', 'prototype-key', 'deep-nesting', 'wrong-type']);
  const key = keys.length > 0 ? pick(rng, keys) : undefined;
  switch (mutation) {
    case 'replace-value':
      if (key === undefined) set(Array.isArray(node) ? 0 : 'x', interestingValue(rng));
      else set(key, interestingValue(rng));
      break;
    case 'delete-key':
      if (key !== undefined) {
        if (Array.isArray(node)) node.splice(key as number, 1);
        else delete (node as Record<string, unknown>)[key as string];
      }
      break;
    case 'prototype-key':
      // an own property named __proto__ (JSON.parse makes those), never the prototype itself
      if (!Array.isArray(node)) set(pick(rng, PROTOTYPE_NAMES), pick(rng, [1, 'x', true, {}, { x: 1 }, null]));
      break;
    case 'deep-nesting':
      set(key ?? (Array.isArray(node) ? 0 : 'deep'), new Deep(pick(rng, [63, 65, 1000, 100_000])));
      break;
    case 'wrong-type': {
      if (key === undefined) break;
      const v = (node as Record<string | number, unknown>)[key];
      set(key, typeof v === 'number' ? String(v) : typeof v === 'string' ? v.length : Array.isArray(v) ? { ...v } : typeof v === 'object' && v ? Object.values(v) : [v]);
      break;
    }
  }
  return { value: root, mutation };
}

/**
 * A settings object (initializationOptions, a pushed or pulled `slipstream` section) with one
 * mutation: half the time keys named after Object.prototype members at its top level and in its
 * groups (where a lookup by name would find a built-in), else any mutation.
 */
export function mutateSettings(settings: unknown, rng: Rng): unknown {
  if (rng() < 0.5) return mutate(settings, rng).value;
  const out: Record<string, unknown> = typeof settings === 'object' && settings !== null && !Array.isArray(settings) ? structuredClone(settings as object) as Record<string, unknown> : {};
  const own = (o: Record<string, unknown>, k: string, v: unknown): void => void Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  for (let i = int(rng, 1, 3); i > 0; i--) own(out, pick(rng, PROTOTYPE_NAMES), pick(rng, [1, 'x', true, null, { x: 1 }]));
  for (const group of ['engine', 'completion', 'trace', 'log']) {
    if (rng() < 0.5) continue;
    const g = typeof out[group] === 'object' && out[group] !== null ? (out[group] as Record<string, unknown>) : {};
    own(g, pick(rng, PROTOTYPE_NAMES), pick(rng, [1, 'x', false, {}]));
    out[group] = g;
  }
  if (rng() < 0.3) own(out, `slipstream.${pick(rng, PROTOTYPE_NAMES)}`, 1);
  return out;
}

/** JSON text of a value holding Deep markers; without them it is JSON.stringify's. */
export function serialize(value: unknown): string {
  if (value instanceof Deep) return `${'{"d":'.repeat(value.depth)}0${'}'.repeat(value.depth)}`;
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : serialize(v))).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const parts: string[] = [];
    for (const k of Object.keys(value)) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) parts.push(`${JSON.stringify(k)}:${serialize(v)}`);
    }
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The greatest depth a value will have once serialized (Deep markers counted). */
export function serializedDepth(value: unknown): number {
  if (value instanceof Deep) return value.depth;
  if (typeof value !== 'object' || value === null) return 0;
  let max = 0;
  for (const c of Array.isArray(value) ? value : Object.values(value)) max = Math.max(max, serializedDepth(c));
  return max + 1;
}
