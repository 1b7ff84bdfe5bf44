/**
 * The target of issue #17 on a real pretrained model: `slipstream train-drafter --budget-minutes 5`
 * on fixtures/models/stories260K gives a head with >= 3.0 tokens per verification step at 4 beams
 * of length 5 on held-out prompts (text not used for training), with ReDrafter output identical to
 * plain greedy decoding. It runs for 5 minutes, so only where SLIPSTREAM_TRAIN_DRAFTER_LONG=1 (the
 * "train-drafter" stage of .ci/run sets it); elsewhere it is skipped, saying so.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { cliPath, stories260K } from '../helpers/paths.js';

const LONG = process.env.SLIPSTREAM_TRAIN_DRAFTER_LONG === '1';
const tmp = mkdtempSync(join(tmpdir(), 'train-drafter-stories-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
if (!LONG) console.warn('stories260k.test.ts: skipped (5 minutes); set SLIPSTREAM_TRAIN_DRAFTER_LONG=1 to run it');

it.skipIf(!LONG)('stories260K, 5 minutes: >= 3.0 tokens per verification step at 4 x 5 and exact parity', async () => {
  const out = join(tmp, 'drafter');
  const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [cliPath, 'train-drafter', '--model', stories260K, '--out', out, '--budget-minutes', '5'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  expect(r.code, r.stderr).toBe(0);
  const result = JSON.parse(r.stdout.trim().split('\n').pop()!) as { tokensPerStep: number; parity: boolean; heldOutPrompts: number; minutes: number };
  console.log(`stories260K train-drafter: ${JSON.stringify(result)}`);
  expect(result.parity).toBe(true);
  expect(result.heldOutPrompts).toBe(12);
  expect(result.tokensPerStep).toBeGreaterThanOrEqual(3.0);
  expect(result.minutes).toBeLessThan(6);
  const card = JSON.parse(readFileSync(join(out, 'model-card.json'), 'utf8')) as { evaluation: { tokensPerStep: number } };
  expect(card.evaluation.tokensPerStep).toBeCloseTo(result.tokensPerStep, 2);
}, 480_000);
