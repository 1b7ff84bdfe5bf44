/**
 * `slipstream quantize`: writes a saved quantized folder (docs/engine.md, "Saved quantized
 * folders") that the engine loads again without quantizing: the engine loads --model with
 * --weights q8_0|q4_0 (its own quantization) and writes the blocks (Model.saveWeights); here the
 * rest of the folder: config.json with slipstream_weights added, every other top-level file of the
 * source (tokenizer, generation_config.json, README, LICENSE) copied. OUT must be new or empty;
 * on failure what was written is removed.
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Model, setEngineLogLevel } from '../../../native/lib/index.js';
import { UsageError, type ParsedArgs } from './args.js';
import { modelDirsFromFlags } from './paths.js';
import { weightsFromFlags } from './weights-flag.js';

/** Files of the source folder that are not copied: the weights (written anew) and config.json (rewritten). */
function isWeightsOrConfig(name: string): boolean {
  return name.endsWith('.safetensors') || name.endsWith('.safetensors.tmp') || name === 'model.safetensors.index.json' || name === 'config.json';
}

/** OUT as an absolute path, checked: not the source folder, and new or an empty directory. Returns whether it exists. */
function checkOut(out: string, modelDir: string): boolean {
  let st;
  try {
    st = statSync(out);
  } catch {
    return false;
  }
  if (!st.isDirectory()) throw new UsageError(`--out: exists and is not a directory: ${out}`);
  if (realpathSync(out) === realpathSync(modelDir)) throw new UsageError('--out: is the --model folder; write the quantized folder somewhere new');
  if (readdirSync(out).length > 0) throw new UsageError(`--out: ${out} is not empty; give a new or empty folder (nothing is overwritten)`);
  return true;
}

export async function runQuantize(args: ParsedArgs): Promise<number> {
  const f = args.flags;
  if (f.out === undefined) throw new UsageError('--out DIR is required');
  const weights = weightsFromFlags(f);
  if (weights !== 'q8_0' && weights !== 'q4_0') throw new UsageError("--weights must be 'q8_0' or 'q4_0'");
  const { modelDir } = modelDirsFromFlags({ ...f, drafter: undefined });
  const out = resolve(f.out as string);
  const existed = checkOut(out, modelDir);
  setEngineLogLevel('warn');  // keep the output to the result
  const t0 = performance.now();
  const model = await Model.load(modelDir, { weights, ...(f.threads !== undefined ? { threads: f.threads as number } : {}) });
  try {
    mkdirSync(out, { recursive: true });
    try {
      await model.saveWeights(join(out, 'model.safetensors'));
      const config = JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8')) as Record<string, unknown>;
      config.slipstream_weights = weights;
      writeFileSync(join(out, 'config.json.tmp'), `${JSON.stringify(config, null, 2)}\n`);
      renameSync(join(out, 'config.json.tmp'), join(out, 'config.json'));
      const copied: string[] = [];
      for (const e of readdirSync(modelDir, { withFileTypes: true })) {
        if (!e.isFile() || isWeightsOrConfig(e.name)) continue;
        copyFileSync(join(modelDir, e.name), join(out, e.name));
        copied.push(e.name);
      }
      const bytes = statSync(join(out, 'model.safetensors')).size;
      const result = { out, model: modelDir, weights, bytes, seconds: Number(((performance.now() - t0) / 1000).toFixed(2)), copied };
      if (f.json) process.stdout.write(`${JSON.stringify(result)}\n`);
      else process.stdout.write(`${out}: ${weights}, model.safetensors ${(bytes / 1e6).toFixed(1)} MB, from ${modelDir} in ${result.seconds} s; copied ${copied.join(', ') || 'nothing else'}\n`);
      return 0;
    } catch (err) {
      if (existed) for (const name of readdirSync(out)) rmSync(join(out, name), { recursive: true, force: true });
      else rmSync(out, { recursive: true, force: true });
      throw err;
    }
  } finally {
    model.dispose();
  }
}
