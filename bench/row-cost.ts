/**
 * What prompt lookup's cost check at load (server/src/completion/row-cost.ts) reads for a model on
 * this machine: N calls of measureRowCost on one load, each line the ratio of a forward of 1 + k
 * rows to one row, the context it ran after and the check's time.
 *
 *   node dist/bench/row-cost.js DIR [--weights bf16|q8_0|q4_0] [--tokens K] [--calls N] [--threads T]
 */
import { Model, type WeightFormat } from '../native/lib/index.js';
import { LOOKUP_MAX_ROW_COST, measureRowCost, rowCostReason } from '../server/src/completion/row-cost.js';

async function main(argv: string[]): Promise<number> {
  const flag = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const dir = argv.find((x, i) => !x.startsWith('--') && !argv[i - 1]?.startsWith('--'));
  const tokens = Number(flag('tokens') ?? 4);
  const calls = Number(flag('calls') ?? 3);
  const threads = flag('threads') !== undefined ? Number(flag('threads')) : undefined;
  if (!dir || !(tokens >= 1 && tokens <= 63) || !(calls >= 1)) {
    process.stderr.write('usage: row-cost DIR [--weights bf16|q8_0|q4_0] [--tokens K] [--calls N] [--threads T]\n');
    return 2;
  }
  const model = await Model.load(dir, { ...(flag('weights') ? { weights: flag('weights') as WeightFormat } : {}), ...(threads !== undefined ? { threads } : {}) });
  try {
    const i = model.info;
    process.stdout.write(`${dir}: ${i.computeDtype} weights, ${i.kernelPath} kernels, ${i.threads} threads; bound ${LOOKUP_MAX_ROW_COST}x\n`);
    for (let c = 0; c < calls; c++) {
      const cost = await measureRowCost(model, 1 + tokens);
      process.stdout.write(`${rowCostReason(cost)}; measured in ${Math.round(cost.ms)} ms\n`);
    }
  } finally {
    model.dispose();
  }
  return 0;
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => (process.exitCode = code));
