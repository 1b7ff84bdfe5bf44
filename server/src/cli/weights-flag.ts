/**
 * The --weights flag of the commands that load a model (serve, generate, info, bench engine /
 * redrafter): its spec and its check. The formats are the engine's (docs/engine.md, "Quantized
 * weights"); 'bf16' keeps the matrices as stored.
 */
import { WEIGHT_FORMATS, type WeightFormat } from '../../../native/lib/model.js';
import { UsageError } from './args.js';

export const weightsFlag = {
  kind: 'string',
  value: 'FORMAT',
  description: "engine.weights: 'bf16' (as stored), 'q8_0' or 'q4_0' (quantized at load; default bf16)",
} as const;

/** The --weights value, checked; undefined when absent. */
export function weightsFromFlags(flags: Record<string, unknown>): WeightFormat | undefined {
  const w = flags.weights;
  if (w === undefined) return undefined;
  if (typeof w !== 'string' || !(WEIGHT_FORMATS as readonly string[]).includes(w)) throw new UsageError(`--weights must be ${WEIGHT_FORMATS.map((f) => `'${f}'`).join(', ')}`);
  return w as WeightFormat;
}
