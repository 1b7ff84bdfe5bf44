/**
 * `slipstream train-drafter --model DIR --out DIR [--budget-minutes N] [--prompts FILE|DIR]
 * [--device auto|cpu|cuda]`: a ReDrafter head for the user's own model in one command
 * (docs/training.md, "Train a drafter for your model"). Records the base model's greedy
 * continuations with their hidden states through the engine (record.ts), trains the head in
 * PyTorch (python.ts -> training/slipstream_train/distill.py), exports it into --out, evaluates
 * it through the engine on held-out prompts (evaluate.ts) and writes the model card (card.ts).
 * The budget is split: 30% recording, the rest training less a reserve for the evaluation.
 * Re-running with the same --out reuses the recorded data and resumes training from its checkpoint.
 */
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Model, setEngineLogLevel } from '../../../../native/lib/index.js';
import { Tokenizer } from '../../../../native/lib/tokenizer.js';
import { detectPromptFormat } from '../../completion/prompt-format.js';
import { packageRoot } from '../../package-root.js';
import { UsageError, type ParsedArgs } from '../args.js';
import { existingDir } from '../paths.js';
import { baseOf, writeCard, type TrainSummary } from './card.js';
import { evaluateDrafter } from './evaluate.js';
import { fimPrompts, type FimPrompts } from './fim.js';
import { listPromptFiles, promptSampler, tokenizeFiles, type PromptFile } from './prompts.js';
import { checkPython, runDistill, trainingDir } from './python.js';
import { DATA_FORMAT, recordData, type RecordSummary } from './record.js';

const RECORD_SHARE = 0.3;
const EVAL_SHARE = 0.1;
const GEN_TOKENS = 64;
const PROMPT_MAX = 64;
/** Tokens of a fill-in-the-middle prompt at most (the server's default is larger; recording cost grows with it). */
const FIM_CONTEXT = 256;
/** The share of FIM prompts for a model with FIM tokens, unless --fim-share says otherwise. */
const FIM_SHARE = 0.5;

const log = (line: string): void => {
  process.stderr.write(`train-drafter: ${line}\n`);
};

/** Creates --out and proves it is writable, or throws a UsageError saying why not. */
function writableOut(path: string): string {
  const abs = resolve(path);
  try {
    mkdirSync(abs, { recursive: true });
    accessSync(abs, constants.W_OK);
    const probe = join(abs, '.write-test');
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (err) {
    throw new UsageError(`--out: cannot write to ${path} (${(err as Error).message})`);
  }
  return abs;
}

async function loadModel(dir: string, threads: number | undefined): Promise<Model> {
  try {
    return await Model.load(dir, threads === undefined ? { backend: 'cpu' } : { backend: 'cpu', threads });
  } catch (err) {
    throw new Error(`the engine cannot load --model ${dir}: ${(err as Error).message}`);
  }
}

/** The recorded data in dataDir when it was made for this model (resume), else null. */
function reusableData(dataDir: string, modelDir: string, model: Model): RecordSummary | null {
  const p = join(dataDir, 'index.json');
  if (!existsSync(p)) return null;
  try {
    const idx = JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown> & { model?: { dir?: string }; sequences?: unknown[] };
    if (idx.format !== DATA_FORMAT || idx.hidden_size !== model.info.hiddenSize || idx.vocab_size !== model.info.vocabSize || idx.model?.dir !== modelDir) return null;
    return { sequences: idx.sequences?.length ?? 0, positions: idx.positions as number, seconds: idx.seconds as number, saturated: idx.saturated_values as number };
  } catch {
    return null;
  }
}

function promptsPathOf(f: ParsedArgs['flags']): string {
  const p = f.prompts !== undefined ? resolve(f.prompts as string) : join(packageRoot(), 'fixtures', 'workspace', 'src');
  if (!existsSync(p)) throw new UsageError(`--prompts: no such file or directory: ${f.prompts as string}`);
  return p;
}

interface PromptSetup {
  files: PromptFile[];
  bos: number | null;
  stopTokens: number[];
  /** FIM prompts, for a model with FIM tokens and a share above 0. */
  fim: FimPrompts | undefined;
}

/** The prompt files, the FIM prompts and the tokens that shape prompts and stops. */
async function promptSetup(model: Model, modelDir: string, promptsPath: string, fimShare: number | undefined): Promise<PromptSetup> {
  if (!existsSync(join(modelDir, 'tokenizer.json'))) throw new Error(`${modelDir} has no tokenizer.json: train-drafter tokenizes its prompts with it`);
  const tokenizer = await Tokenizer.load(modelDir);
  const files = tokenizeFiles(listPromptFiles(promptsPath), tokenizer);
  if (files.length === 0) throw new UsageError(`--prompts: no text file of 16 tokens or more under ${promptsPath}`);
  const bos = tokenizer.bosTokenId !== null && tokenizer.encode('a')[0] === tokenizer.bosTokenId ? tokenizer.bosTokenId : null;
  const format = detectPromptFormat(tokenizer);
  // the tokens that end a completion in the server (EOS, FIM and file-separator tokens)
  const stopTokens = [...new Set([...model.info.eosTokenIds, ...format.stopTokens])].filter((t) => t < model.info.vocabSize);
  const maxContext = Math.min(model.info.maxPositionEmbeddings, 1024);
  const fim = fimPrompts(tokenizer, format, { share: fimShare ?? FIM_SHARE, contextTokens: FIM_CONTEXT, maxTokens: GEN_TOKENS, maxContext });
  return { files, bos, stopTokens, fim };
}

/** --evaluate DIR: measures an existing head on the held-out prompts, as the last step would; trains nothing. */
async function evaluateOnly(args: ParsedArgs, modelDir: string, drafterDir: string): Promise<number> {
  const f = args.flags;
  const promptsPath = promptsPathOf(f);
  setEngineLogLevel('warn');
  const model = await loadModel(modelDir, f.threads as number | undefined);
  try {
    const { files, bos, stopTokens, fim } = await promptSetup(model, modelDir, promptsPath, f['fim-share'] as number | undefined);
    const seed = (f.seed as number | undefined) ?? 1;
    const e = await evaluateDrafter(model, drafterDir, promptSampler(files, 'heldout', { seed: seed + 1000, maxLen: PROMPT_MAX, bos, root: promptsPath, fim }), {
      prompts: (f['eval-prompts'] as number | undefined) ?? 12, beams: 4, beamLength: 5, maxTokens: GEN_TOKENS, stopTokens, log,
    });
    process.stdout.write(`${JSON.stringify({
      drafter: drafterDir, tokensPerStep: Number(e.tokensPerStep.toFixed(3)), beams: e.beams, beamLength: e.beamLength,
      heldOutPrompts: e.prompts, parity: e.parityOk === e.prompts,
    })}\n`);
    return e.parityOk === e.prompts ? 0 : 1;
  } finally {
    model.dispose();
  }
}

export async function runTrainDrafter(args: ParsedArgs): Promise<number> {
  const f = args.flags;
  if (f.model === undefined) throw new UsageError('--model DIR is required (the base model the head drafts for)');
  const modelDir = existingDir('model', f.model as string);
  if (f.evaluate !== undefined) return evaluateOnly(args, modelDir, existingDir('evaluate', f.evaluate as string));
  if (f.out === undefined) throw new UsageError('--out DIR is required (where the drafter folder is written)');
  const device = (f.device as string | undefined) ?? 'auto';
  if (!['auto', 'cpu', 'cuda'].includes(device)) throw new UsageError("--device must be 'auto', 'cpu' or 'cuda'");
  const budgetMin = f['budget-minutes'] as number;
  const root = packageRoot();
  const promptsPath = promptsPathOf(f);
  const outDir = writableOut(f.out as string);
  const training = trainingDir(root);

  const started = Date.now();
  const budgetS = budgetMin * 60;
  const threads = f.threads as number | undefined;
  setEngineLogLevel('warn');
  const workDir = join(outDir, 'work');
  const dataDir = join(workDir, 'data');
  mkdirSync(dataDir, { recursive: true });

  let model = await loadModel(modelDir, threads);
  const info = model.info;
  const seed = (f.seed as number | undefined) ?? 1;
  let files: PromptFile[];
  let bos: number | null;
  let stopTokens: number[];
  let fim: FimPrompts | undefined;
  let promptSource: string;
  let data: RecordSummary | null;
  try {
    ({ files, bos, stopTokens, fim } = await promptSetup(model, modelDir, promptsPath, f['fim-share'] as number | undefined));
    checkPython(training);  // before any work is done
    promptSource = `${files.length} file(s) under ${promptsPath}` + (fim ? `, ${Math.round(fim.share * 100)}% as fill-in-the-middle prompts` : '');
    log(`${info.architecture} ${info.storedDtype}, ${info.numLayers} layers, hidden ${info.hiddenSize}, vocabulary ${info.vocabSize}; ` +
      `prompts from ${promptSource}; budget ${budgetMin} min`);

    data = reusableData(dataDir, modelDir, model);
    if (data) {
      log(`reusing the recorded data in ${dataDir} (${data.positions.toLocaleString('en-US')} positions)`);
    } else {
      data = await recordData({
        model, modelDir, dataDir, sampler: promptSampler(files, 'train', { seed, maxLen: PROMPT_MAX, bos, root: promptsPath, fim }),
        seconds: budgetS * RECORD_SHARE, maxPositions: (f['max-positions'] as number | undefined) ?? 2_000_000, genTokens: GEN_TOKENS,
        stopTokens, promptSource, log,
      });
      log(`recorded ${data.sequences} sequences, ${data.positions.toLocaleString('en-US')} positions in ${(data.seconds / 60).toFixed(2)} min ` +
        `(${((data.seconds * 1000) / Math.max(1, data.positions)).toFixed(2)} s per thousand positions)` +
        (data.saturated > 0 ? `; ${data.saturated} hidden values beyond the f16 range were clamped` : ''));
    }
    if (data.positions < 2) throw new Error('no training data was recorded (every continuation ended at once?)');
  } finally {
    model.dispose();  // the engine's weights are not needed while PyTorch trains
  }

  const spentS = (Date.now() - started) / 1000;
  const trainMin = Math.max(0.05, (budgetS * (1 - EVAL_SHARE) - spentS) / 60);
  const distillArgs = [
    '--data', dataDir, '--model', modelDir, '--out', outDir, '--work', workDir, '--budget-minutes', trainMin.toFixed(3),
    '--device', device, '--export-dtype', info.storedDtype === 'f32' ? 'float32' : 'bfloat16', '--seed', String(seed),
  ];
  if (f['max-steps'] !== undefined) distillArgs.push('--max-steps', String(f['max-steps']));
  if (f['exit-dim'] !== undefined) distillArgs.push('--exit-dim', String(f['exit-dim']));
  if (f.layers !== undefined) distillArgs.push('--layers', String(f.layers));
  log(`training for ${trainMin.toFixed(2)} min (python3 -m slipstream_train.distill)`);
  await runDistill(training, distillArgs);
  const trained = JSON.parse(readFileSync(join(workDir, 'train-summary.json'), 'utf8')) as TrainSummary;

  model = await loadModel(modelDir, threads);
  try {
    const evaluation = await evaluateDrafter(model, outDir, promptSampler(files, 'heldout', { seed: seed + 1000, maxLen: PROMPT_MAX, bos, root: promptsPath, fim }), {
      prompts: (f['eval-prompts'] as number | undefined) ?? 12, beams: 4, beamLength: 5, maxTokens: GEN_TOKENS, stopTokens, log,
    });
    writeCard(outDir, {
      base: baseOf(model.info, modelDir),
      data: { ...data, prompts: promptSource, genTokens: GEN_TOKENS },
      training: trained,
      evaluation,
      command: `slipstream ${process.argv.slice(2).join(' ')}`,
      date: new Date().toISOString(),
    });
    process.stdout.write(`${JSON.stringify({
      drafter: outDir, tokensPerStep: Number(evaluation.tokensPerStep.toFixed(3)), beams: evaluation.beams, beamLength: evaluation.beamLength,
      heldOutPrompts: evaluation.prompts, parity: evaluation.parityOk === evaluation.prompts, steps: trained.steps,
      positions: data.positions, minutes: Number(((Date.now() - started) / 60000).toFixed(2)),
    })}\n`);
    if (evaluation.parityOk !== evaluation.prompts) {
      log(`ReDrafter output differed from plain greedy decoding on ${evaluation.prompts - evaluation.parityOk} prompt(s): ${JSON.stringify(evaluation.mismatch)}`);
      return 1;
    }
    return 0;
  } finally {
    model.dispose();
  }
}
