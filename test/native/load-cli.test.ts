/**
 * `slipstream info` and `slipstream generate` on a real model folder: info describes the model,
 * tokenizer and backends; bad paths and ids exit 2 with one line on stderr.
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { cliPath, stories260K } from '../helpers/paths.js';

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('slipstream info and generate', () => {
  it('describes stories260K with info --json', () => {
    const { code, stdout } = run('info', '--model', stories260K, '--json');
    expect(code).toBe(0);
    const out = JSON.parse(stdout);
    expect(out.model).toMatchObject({ architecture: 'llama', vocabSize: 512, numLayers: 5, storedDtype: 'f32' });
    expect(out.tokenizer).toMatchObject({ vocabSize: 512, bosTokenId: 1, eosTokenIds: [2] });
    expect(out.backends[0]).toMatchObject({ name: 'cpu', available: true });
  });

  // the engine's default thread count: the CPUs the process may use (native/src/base/cpu-count.h)
  const taskset = spawnSync('taskset', ['--version'], { encoding: 'utf8' }).status === 0;
  it.skipIf(!taskset)('computes with one thread by default when pinned to one CPU (taskset), with as many as it may use otherwise', () => {
    const pinned = spawnSync('taskset', ['-c', '0', process.execPath, cliPath, 'info', '--model', stories260K, '--json'], { encoding: 'utf8' });
    expect(pinned.status).toBe(0);
    expect(JSON.parse(pinned.stdout).model.threads).toBe(1);
    const free = run('info', '--model', stories260K, '--json');
    // one per physical core of the CPUs this process may use: at most those, at least 1
    const threads = JSON.parse(free.stdout).model.threads as number;
    expect(threads).toBeGreaterThanOrEqual(1);
    expect(threads).toBeLessThanOrEqual(availableParallelism());
  });

  it('describes the shipped model and drafter when --model is not given', () => {
    const { code, stdout } = run('info', '--json');
    expect(code).toBe(0);
    const out = JSON.parse(stdout);
    expect(out.model.dir).toMatch(/fixtures[\\/]models[\\/]slipstream-code$/);
    expect(out.drafter).not.toBeNull();
  });

  it('describes the drafter in words without --json, as --json holds it', () => {
    const plain = run('info');
    const json = JSON.parse(run('info', '--json').stdout) as { drafter: { dir: string; numDraftLayers: number; defaultBeams: number; defaultBeamLength: number } };
    expect(plain.code).toBe(0);
    const lines = plain.stdout.split('\n');
    const at = lines.findIndex((l) => l.startsWith('drafter '));
    expect(lines[at]).toBe(`drafter      ${json.drafter.dir}`);
    expect(lines[at + 1]).toMatch(new RegExp(`^ {13}${json.drafter.numDraftLayers} layers?(, RNN)?, hidden \\d+, exit \\d+, stored \\w+, [\\d.]+ MB; default tree M=${json.drafter.defaultBeams} L=${json.drafter.defaultBeamLength}$`));
  });

  it('streams the same text without --json as the JSON result holds', () => {
    const plain = run('generate', '--model', stories260K, '--prompt', 'Zoo', '--max-tokens', '12');
    const json = run('generate', '--model', stories260K, '--prompt', 'Zoo', '--max-tokens', '12', '--json');
    expect(plain.code).toBe(0);
    expect(json.code).toBe(0);
    const result = JSON.parse(json.stdout) as { ids: number[]; text: string };
    expect(result.ids.length).toBe(12);
    expect(plain.stdout).toBe(`${result.text}\n`);
    expect(plain.stderr).toMatch(/^12 tokens \(max_tokens\), 12 forward passes/);
  });

  it.each([
    [['generate', '--model', '/definitely/not/here', '--prompt', 'x'], 'slipstream generate: --model: no such directory: /definitely/not/here'],
    [['generate', '--model', stories260K, '--prompt-ids', '1,9999'], 'slipstream generate: --prompt-ids: id 9999 is outside the vocabulary (0..511)'],
    [['generate', '--model', stories260K], 'slipstream generate: give exactly one of --prompt and --prompt-ids'],
    [['info', '--model', '/definitely/not/here'], 'slipstream info: --model: no such directory: /definitely/not/here'],
  ])('exits 2 with one line for %j', (args, message) => {
    const { code, stdout, stderr } = run(...args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(`${message}\n`);
  });
});
