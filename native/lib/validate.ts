/**
 * Option checks shared by model.ts and session.ts. Each throws TypeError for a wrong type and
 * RangeError for a value out of range, with a message naming the option exactly.
 */

export function checkInt(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number') throw new TypeError(`${name} must be a number`);
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`${name} must be an integer between ${min} and ${max}`);
  return v;
}

export function checkNumber(name: string, v: unknown, min: number, max: number, minExclusive = false): number {
  if (typeof v !== 'number') throw new TypeError(`${name} must be a number`);
  if (!Number.isFinite(v) || (minExclusive ? v <= min : v < min) || v > max)
    throw new RangeError(`${name} must be a number in ${minExclusive ? '(' : '['}${min}, ${max}]`);
  return v;
}

export function checkBoolean(name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new TypeError(`${name} must be a boolean`);
  return v;
}

export function checkSignal(name: string, v: unknown): AbortSignal | undefined {
  if (v === undefined) return undefined;
  if (!(v instanceof AbortSignal)) throw new TypeError(`${name} must be an AbortSignal`);
  return v;
}

export function checkObject(name: string, v: unknown): Record<string, unknown> {
  if (v === undefined) return {};
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new TypeError(`${name} must be an object`);
  return v as Record<string, unknown>;
}

/** Rejects keys the API does not know, so a misspelt option is not silently ignored. */
export function checkKeys(name: string, obj: Record<string, unknown>, allowed: readonly string[]): void {
  for (const k of Object.keys(obj))
    if (!allowed.includes(k)) throw new TypeError(`${name} has an unknown option '${k}' (known: ${allowed.join(', ')})`);
}

/** Token ids: an Int32Array of ids in [0, vocabSize). */
export function checkTokens(name: string, v: unknown, vocabSize: number, allowEmpty = false): Int32Array {
  if (!(v instanceof Int32Array)) throw new TypeError(`${name} must be an Int32Array`);
  if (!allowEmpty && v.length === 0) throw new RangeError(`${name} must not be empty`);
  for (let i = 0; i < v.length; i++)
    if (v[i]! < 0 || v[i]! >= vocabSize) throw new RangeError(`${name}[${i}] = ${v[i]} is outside the vocabulary (0..${vocabSize - 1})`);
  return v;
}
