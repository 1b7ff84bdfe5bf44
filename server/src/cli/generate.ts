/**
 * `slipstream generate`: loads a model (and a drafter for --mode redrafter), runs one generation
 * (with --lookup, prompt lookup's drafts verified each step) and prints the text, or with --json
 * one object {ids, text, stats} (docs/cli.md). --prompt is
 * tokenized with the model's tokenizer (BOS per its tokenizer_config); --prompt-ids is used as given.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Drafter, Model, type GenerateOptions, setEngineLogLevel } from '../../../native/lib/index.js';
import { Tokenizer } from '../../../native/lib/tokenizer.js';
import { UsageError, type ParsedArgs } from './args.js';
import { weightsFromFlags } from './weights-flag.js';
import { modelDirsFromFlags } from './paths.js';

/** Loads a ReDrafter head for mode 'redrafter' (native/lib/drafter.ts). */
export async function loadDrafter(dir: string, model: Model): Promise<Drafter> {
  return Drafter.load(dir, model);
}

export async function runGenerate(args: ParsedArgs): Promise<number> {
  const f = args.flags;
  const { modelDir, drafterDir } = modelDirsFromFlags(f);
  if ((f.prompt === undefined) === (f['prompt-ids'] === undefined)) throw new UsageError('give exactly one of --prompt and --prompt-ids');
  const mode = f.mode as string;
  if (mode !== 'ar' && mode !== 'redrafter') throw new UsageError("--mode must be 'ar' or 'redrafter'");
  if (mode === 'redrafter' && drafterDir === undefined) throw new UsageError('--mode redrafter needs --drafter DIR');
  for (const flag of ['beams', 'beam-length'])
    if (f[flag] !== undefined && mode !== 'redrafter') throw new UsageError(`--${flag} shapes ReDrafter's draft tree: it needs --mode redrafter`);
  const hasTokenizer = existsSync(join(modelDir, 'tokenizer.json'));
  if (f.prompt !== undefined && !hasTokenizer) throw new UsageError(`--prompt needs ${join(modelDir, 'tokenizer.json')}; use --prompt-ids`);

  setEngineLogLevel('warn');  // keep the output to the result
  const weights = weightsFromFlags(f);
  const model = await Model.load(modelDir, { ...(f.threads === undefined ? {} : { threads: f.threads as number }), ...(weights ? { weights } : {}) });
  const tokenizer = hasTokenizer ? await Tokenizer.load(modelDir) : null;
  const drafter = drafterDir !== undefined && mode === 'redrafter' ? await loadDrafter(drafterDir, model) : null;
  try {
    const prompt = f.prompt !== undefined ? tokenizer!.encode(f.prompt as string) : Int32Array.from(f['prompt-ids'] as number[]);
    if (prompt.length === 0) throw new UsageError('the prompt is empty after tokenization (the tokenizer adds no BOS); give some text');
    for (const id of prompt)
      if (id < 0 || id >= model.info.vocabSize) throw new UsageError(`--prompt-ids: id ${id} is outside the vocabulary (0..${model.info.vocabSize - 1})`);
    const opts: GenerateOptions = {
      maxTokens: f['max-tokens'] as number,
      temperature: f.temperature as number,
      seed: f.seed as number,
      mode,
    };
    if (f['top-k'] !== undefined) opts.topK = f['top-k'] as number;
    if (f['top-p'] !== undefined) opts.topP = f['top-p'] as number;
    if (drafter) opts.drafter = drafter;
    if (f.beams !== undefined) opts.beams = f.beams as number;
    if (f['beam-length'] !== undefined) opts.beamLength = f['beam-length'] as number;
    if (f.lookup !== undefined) opts.lookup = { tokens: f.lookup as number };
    if (tokenizer) opts.stopTokens = [...new Set([...model.info.eosTokenIds, ...tokenizer.eosTokenIds])];
    const session = model.createSession({ maxContext: Math.min(model.info.maxPositionEmbeddings, prompt.length + opts.maxTokens + 16) });
    const gen = session.generate(prompt, opts);
    const stream = f.json ? null : tokenizer?.createStreamDecoder();
    let r = await gen.next();
    while (!r.done) {
      if (stream) process.stdout.write(stream.push(r.value.ids));
      r = await gen.next();
    }
    const result = r.value;
    const text = tokenizer ? tokenizer.decode(result.ids, { skipSpecialTokens: true }) : '';
    if (f.json) {
      process.stdout.write(`${JSON.stringify({ ids: Array.from(result.ids), text, stats: result.stats })}\n`);
    } else {
      if (stream) process.stdout.write(`${stream.flush()}\n`);
      else process.stdout.write(`${Array.from(result.ids).join(',')}\n`);
      const s = result.stats;
      process.stderr.write(
        `${result.ids.length} tokens (${result.stoppedBy}), ${s.forward_passes} forward passes, ` +
          `prefill ${s.prefill_ms.toFixed(1)} ms, decode ${s.decode_ms.toFixed(1)} ms` +
          (s.decode_ms > 0 ? ` (${((result.ids.length - 1) / (s.decode_ms / 1000)).toFixed(1)} tok/s)` : '') + '\n',
      );
      if (s.accepted_histogram)  // ReDrafter's and lookup's rounds (docs/redrafter.md §4)
        process.stderr.write(
          `${drafter ? 'redrafter' : 'drafts'}: ${s.tokens_per_step.toFixed(2)} tokens/step${s.lookup_accepted > 0 ? ` (${s.lookup_accepted} tokens from prompt lookup)` : ''}, accepted drafts histogram [${s.accepted_histogram.join(' ')}], ` +
            `mean tree ${(s.mean_tree_size ?? 0).toFixed(1)} nodes, draft ${(s.draft_ms ?? 0).toFixed(1)} ms, verify ${(s.verify_ms ?? 0).toFixed(1)} ms, ` +
            `accept ${(s.accept_ms ?? 0).toFixed(1)} ms\n`,
        );
    }
    session.dispose();
    return 0;
  } finally {
    drafter?.dispose();
    model.dispose();
  }
}
