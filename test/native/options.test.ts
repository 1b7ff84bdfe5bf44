/**
 * The TS wrapper validates every option before anything reaches native code, with exact
 * TypeError / RangeError messages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Model, type Session } from '../../native/lib/index.js';
import { stories260K } from '../helpers/paths.js';

describe('Model.load option validation', () => {
  it.each([
    [[''], TypeError, 'dir must be a non-empty string'],
    [[42], TypeError, 'dir must be a non-empty string'],
    [['x', { threads: 0 }], RangeError, 'threads must be an integer between 1 and 256'],
    [['x', { threads: '2' }], TypeError, 'threads must be a number'],
    [['x', { backend: 'tpu' }], TypeError, "backend must be 'auto', 'cpu' or 'cuda'"],
    [['x', { signal: {} }], TypeError, 'signal must be an AbortSignal'],
    [['x', { weights: 'q3_k' }], TypeError, "weights must be 'bf16', 'q8_0' or 'q4_0'"],
    [['x', { kv: 'f16' }], TypeError, "kv must be 'auto', 'f32' or 'bf16'"],
    [['x', { thread: 2 }], TypeError, "options has an unknown option 'thread' (known: threads, backend, weights, kv, signal)"],
  ])('rejects %j', async (args, cls, message) => {
    const p = (Model.load as (...a: unknown[]) => Promise<Model>)(...args);
    await expect(p).rejects.toThrow(cls);
    await expect(p).rejects.toThrow(message);
  });

  it('rejects a folder that does not exist with ENGINE_IO_ERROR naming it', async () => {
    await expect(Model.load('/definitely/not/here')).rejects.toMatchObject({ code: 'ENGINE_IO_ERROR', message: '/definitely/not/here: not a directory' });
  });
});

describe('Session option validation', () => {
  let model: Model;
  let s: Session;
  beforeAll(async () => {
    model = await Model.load(stories260K);
    s = model.createSession();
  });
  afterAll(() => {
    s.dispose();
    model.dispose();
  });

  it.each([
    [{ maxContext: 0 }, RangeError, 'maxContext must be an integer between 1 and 512'],
    [{ maxContext: 513 }, RangeError, 'maxContext must be an integer between 1 and 512'],
    [{ maxContext: 1.5 }, RangeError, 'maxContext must be an integer between 1 and 512'],
  ])('createSession rejects %j', (opts, cls, message) => {
    expect(() => model.createSession(opts)).toThrow(cls);
    expect(() => model.createSession(opts)).toThrow(message);
  });

  it.each([
    [[[1, 2]], TypeError, 'tokens must be an Int32Array'],
    [[new Int32Array(0)], RangeError, 'tokens must not be empty'],
    [[Int32Array.of(1, 512)], RangeError, 'tokens[1] = 512 is outside the vocabulary (0..511)'],
    [[Int32Array.of(1), { positions: [0] }], TypeError, 'positions must be an Int32Array'],
    [[Int32Array.of(1, 2), { positions: Int32Array.of(0) }], RangeError, 'positions must have 2 entries (one per token)'],
    [[Int32Array.of(1), { mask: [1] }], TypeError, 'mask must be a Uint8Array'],
    [[Int32Array.of(1, 2), { mask: new Uint8Array(3) }], RangeError, 'mask must have 2 x 2 = 4 entries (tokens x (length + tokens))'],
    [[Int32Array.of(1, 2), { outputRows: Int32Array.of(2) }], RangeError, 'outputRows[0] = 2 is outside 0..1'],
    [[Int32Array.of(1), { hidden: 1 }], TypeError, 'hidden must be a boolean'],
    [[Int32Array.of(1), { signal: 'no' }], TypeError, 'signal must be an AbortSignal'],
    [[Int32Array.of(1), { rows: 1 }], TypeError, "options has an unknown option 'rows' (known: positions, mask, outputRows, hidden, signal)"],
  ])('forward rejects %j', async (args, cls, message) => {
    const p = (s.forward as (...a: unknown[]) => Promise<unknown>).apply(s, args);
    await expect(p).rejects.toThrow(cls);
    await expect(p).rejects.toThrow(message);
    expect(s.length).toBe(0);
  });

  it.each([
    [[[1]], TypeError, 'prompt must be an Int32Array'],
    [[Int32Array.of(1)], TypeError, 'options are required (at least maxTokens)'],
    [[Int32Array.of(1), {}], TypeError, 'maxTokens is required'],
    [[Int32Array.of(1), { maxTokens: 0 }], RangeError, 'maxTokens must be an integer between 1 and 512'],
    [[Int32Array.of(1), { maxTokens: 4, temperature: -1 }], RangeError, 'temperature must be a number in [0, 1000000]'],
    [[Int32Array.of(1), { maxTokens: 4, temperature: NaN }], RangeError, 'temperature must be a number in [0, 1000000]'],
    [[Int32Array.of(1), { maxTokens: 4, topK: -1 }], RangeError, 'topK must be an integer between 0 and 512'],
    [[Int32Array.of(1), { maxTokens: 4, topP: 0 }], RangeError, 'topP must be a number in (0, 1]'],
    [[Int32Array.of(1), { maxTokens: 4, seed: -1 }], RangeError, 'seed must be an integer between 0 and 9007199254740991'],
    [[Int32Array.of(1), { maxTokens: 4, stopTokens: 2 }], TypeError, 'stopTokens must be an array of token ids'],
    [[Int32Array.of(1), { maxTokens: 4, stopTokens: [999] }], RangeError, 'stopTokens[0] must be an integer between 0 and 511'],
    [[Int32Array.of(1), { maxTokens: 4, mode: 'fast' }], TypeError, "mode must be 'ar' or 'redrafter'"],
    [[Int32Array.of(1), { maxTokens: 4, mode: 'redrafter' }], TypeError, "drafter is required when mode is 'redrafter'"],
    [[Int32Array.of(1), { maxTokens: 4, drafter: {} }], TypeError, 'drafter must be a Drafter (from Drafter.load)'],
    [[Int32Array.of(1), { maxTokens: 4, beams: 65 }], RangeError, 'beams must be an integer between 1 and 64'],
    [[Int32Array.of(1), { maxTokens: 4, beamLength: 1 }], RangeError, 'beamLength must be an integer between 2 and 16'],
    [[Int32Array.of(1), { maxTokens: 4, extraDrafts: Int32Array.of(1) }], TypeError, 'extraDrafts must be an array of Int32Array'],
    [[Int32Array.of(1), { maxTokens: 4, logprobs: 1 }], TypeError, 'logprobs must be a boolean'],
    [[Int32Array.of(1), { maxTokens: 4, max_tokens: 4 }], TypeError, "options has an unknown option 'max_tokens'"],
    [[Int32Array.from({ length: 500 }, () => 1), { maxTokens: 20 }], RangeError, 'prompt (500 tokens) + maxTokens (20) exceed maxContext 512'],
  ])('generate rejects %j', (args, cls, message) => {
    const call = () => (s.generate as (...a: unknown[]) => unknown).apply(s, args);
    expect(call).toThrow(cls);
    expect(call).toThrow(message);
  });

  it.each([
    [-1, RangeError, 'length must be an integer between 0 and 0'],
    ['0', TypeError, 'length must be a number'],
  ])('truncate rejects %j', (len, cls, message) => {
    expect(() => s.truncate(len as number)).toThrow(cls);
    expect(() => s.truncate(len as number)).toThrow(message);
  });
});
