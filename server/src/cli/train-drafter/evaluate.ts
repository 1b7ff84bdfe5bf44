/**
 * Step 3 of `slipstream train-drafter`: the exported head measured through the engine on held-out
 * prompts (never used for training data): each prompt is decoded greedily plain and with ReDrafter
 * (beams x beam length, 4 x 5 by default), the outputs must be identical (greedy parity), and
 * tokens per verification step = the mean over ReDrafter rounds of (accepted drafts + 1).
 */
import { Drafter, type GenerateOptions, type GenerateResult, type Model, type Session } from '../../../../native/lib/index.js';
import type { PromptSampler } from './prompts.js';

export interface EvalResult {
  prompts: number;
  beams: number;
  beamLength: number;
  maxTokens: number;
  /** Mean over rounds of accepted drafted tokens + 1 (the guaranteed token). */
  tokensPerStep: number;
  rounds: number;
  tokens: number;
  /** Prompts whose ReDrafter output equals plain greedy decoding. */
  parityOk: number;
  /** The first prompt that broke parity, if any. */
  mismatch?: { source: string; plain: number[]; redrafter: number[] };
}

async function run(session: Session, prompt: Int32Array, opts: GenerateOptions): Promise<GenerateResult> {
  const g = session.generate(prompt, opts);
  let r = await g.next();
  while (!r.done) r = await g.next();
  return r.value;
}

export async function evaluateDrafter(
  model: Model, drafterDir: string, sampler: PromptSampler,
  o: { prompts: number; beams: number; beamLength: number; maxTokens: number; stopTokens: number[]; log: (line: string) => void },
): Promise<EvalResult> {
  const drafter = await Drafter.load(drafterDir, model);
  const session = model.createSession({ maxContext: Math.min(model.info.maxPositionEmbeddings, 1024) });
  const res: EvalResult = { prompts: 0, beams: o.beams, beamLength: o.beamLength, maxTokens: o.maxTokens, tokensPerStep: 0, rounds: 0, tokens: 0, parityOk: 0 };
  let committed = 0;
  try {
    for (let i = 0; i < o.prompts; i++) {
      const { prompt, source } = sampler.next();
      const plain = await run(session, prompt, { maxTokens: o.maxTokens, stopTokens: o.stopTokens });
      const rd = await run(session, prompt, { maxTokens: o.maxTokens, stopTokens: o.stopTokens, mode: 'redrafter', drafter, beams: o.beams, beamLength: o.beamLength });
      res.prompts++;
      const same = plain.ids.length === rd.ids.length && plain.ids.every((v, k) => v === rd.ids[k]);
      if (same) res.parityOk++;
      else if (!res.mismatch) res.mismatch = { source, plain: Array.from(plain.ids), redrafter: Array.from(rd.ids) };
      const h = rd.stats.accepted_histogram ?? [];
      let rounds = 0;
      for (let n = 0; n < h.length; n++) {
        rounds += h[n]!;
        committed += h[n]! * (n + 1);
      }
      res.rounds += rounds;
      res.tokens += rd.ids.length;
    }
  } finally {
    session.dispose();
    drafter.dispose();
  }
  res.tokensPerStep = res.rounds > 0 ? committed / res.rounds : 0;
  o.log(`evaluate: ${res.prompts} held-out prompts, ${res.tokensPerStep.toFixed(2)} tokens per verification step at ${o.beams} x ${o.beamLength}, ` +
    `parity ${res.parityOk}/${res.prompts}`);
  return res;
}
