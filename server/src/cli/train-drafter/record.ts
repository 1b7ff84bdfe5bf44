/**
 * Step 1 of `slipstream train-drafter`: the base model continues training prompts greedily in the
 * engine (generateWithHidden, native/lib/distill.ts) and every decision is written to the data
 * folder, the format training/slipstream_train/distill.py memory-maps:
 *   tokens.i32   int32 little-endian: per sequence n + 1 ids [last prompt token, n generated]
 *   hidden.f16   float16 little-endian (rows, hiddenSize): per sequence n rows, row j = the base's
 *                post-norm hidden state c at window column j (the one whose argmax is column j + 1)
 *   index.json   { format, hidden_size, vocab_size, hidden_dtype, tokens_file, hidden_file,
 *                  sequences: [[tokens_offset, hidden_offset, n], ...], positions, ... }
 * It stops at the time budget or at maxPositions, whichever comes first.
 */
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { generateWithHidden, type Model } from '../../../../native/lib/index.js';
import { toHalfArray } from './f16.js';
import type { PromptSampler } from './prompts.js';

export const DATA_FORMAT = 'slipstream-drafter-data/1';

export interface RecordOptions {
  model: Model;
  modelDir: string;
  dataDir: string;
  sampler: PromptSampler;
  seconds: number;
  maxPositions: number;
  genTokens: number;
  stopTokens: number[];
  promptSource: string;
  log: (line: string) => void;
}

export interface RecordSummary {
  sequences: number;
  positions: number;
  seconds: number;
  saturated: number;
}

export async function recordData(o: RecordOptions): Promise<RecordSummary> {
  const H = o.model.info.hiddenSize;
  const tokFd = openSync(join(o.dataDir, 'tokens.i32'), 'w');
  const hidFd = openSync(join(o.dataDir, 'hidden.f16'), 'w');
  const sequences: [number, number, number][] = [];
  let tokOff = 0;
  let hidOff = 0;
  let saturated = 0;
  const t0 = Date.now();
  let lastLog = t0;
  const session = o.model.createSession({ maxContext: Math.min(o.model.info.maxPositionEmbeddings, 1024) });
  try {
    while (hidOff < o.maxPositions && (Date.now() - t0) / 1000 < o.seconds) {
      const { prompt } = o.sampler.next();
      const r = await generateWithHidden(session, prompt, { maxTokens: o.genTokens, stopTokens: o.stopTokens });
      const n = r.tokens.length;
      const window = new Int32Array(n + 1);  // (n + 1) ids: the last prompt token, then the generated ones
      window[0] = prompt[prompt.length - 1]!;
      window.set(r.tokens, 1);
      const half = new Uint16Array(n * H);  // (n, H)
      saturated += toHalfArray(r.hidden, half);
      writeSync(tokFd, Buffer.from(window.buffer, window.byteOffset, window.byteLength));
      writeSync(hidFd, Buffer.from(half.buffer, half.byteOffset, half.byteLength));
      sequences.push([tokOff, hidOff, n]);
      tokOff += n + 1;
      hidOff += n;
      const now = Date.now();
      if (now - lastLog >= 5000) {
        lastLog = now;
        const s = (now - t0) / 1000;
        o.log(`record: ${sequences.length} sequences, ${hidOff.toLocaleString('en-US')} positions, ` +
          `${(hidOff / s).toFixed(0)} positions/s, ${(s / 60).toFixed(2)}/${(o.seconds / 60).toFixed(2)} min`);
      }
    }
  } finally {
    session.dispose();
    closeSync(tokFd);
    closeSync(hidFd);
  }
  const seconds = (Date.now() - t0) / 1000;
  const info = o.model.info;
  writeFileSync(join(o.dataDir, 'index.json'), `${JSON.stringify({
    format: DATA_FORMAT,
    hidden_size: H,
    vocab_size: info.vocabSize,
    hidden_dtype: 'f16',
    tokens_file: 'tokens.i32',
    hidden_file: 'hidden.f16',
    model: { dir: o.modelDir, architecture: info.architecture, dtype: info.storedDtype },
    prompts: o.promptSource,
    gen_tokens: o.genTokens,
    stop_tokens: o.stopTokens,
    positions: hidOff,
    saturated_values: saturated,
    seconds,
    sequences,
  })}\n`);
  return { sequences: sequences.length, positions: hidOff, seconds, saturated };
}
