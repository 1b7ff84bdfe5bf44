/**
 * bench/llama-cpp/compare.ts's parsers: the figures it takes from `engine-cli bench` /
 * llama-engine-bench output lines and from llama-bench's JSON, and the clear error when a line
 * it needs is missing (for instance after a change to engine-cli's output format); and its GGUF
 * cache: converted once, renamed into place, reused.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cachedGguf, parseEngineBench, parseLlamaBench } from '../../bench/llama-cpp/compare.js';
import { makeRandomModel } from '../../bench/make-random-model.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('llama.cpp comparison parsers', () => {
  it('reads prefill, decode and the forward curve from engine-cli bench style output', () => {
    const text = [
      'kernels avx512vnni, q8_0 weights, bf16 K/V',
      'round 1: bandwidth 33.5 GB/s, decode 31.9 tok/s = 94.0% of that roofline',
      'prefill 512: 490.3 tok/s; decode: 31.9 tok/s (median 58.6% of the paired roofline)',
      'forward N=1     54.01 ms  1.00x N=1',
      'forward N=16   124.24 ms  2.30x N=1',
      'forward N=64   369.87 ms  6.85x N=1',
    ].join('\n');
    expect(parseEngineBench(text, 'x')).toEqual({
      prefill512: 490.3, decode: 31.9, rooflineFraction: 0.586, decodeBandwidth: 33.5, forwardMs: { 1: 54.01, 16: 124.24, 64: 369.87 }, kernels: 'avx512vnni',
    });
  });

  it('leaves the roofline fraction and the kernels out when the output has none (llama-engine-bench)', () => {
    const f = parseEngineBench('prefill 512: 311.7 tok/s; decode: 40.3 tok/s\nforward N=1 25.11 ms\nforward N=16 101.07 ms', 'x');
    expect(f.rooflineFraction).toBeUndefined();
    expect(f.kernels).toBeUndefined();
    expect(f.forwardMs[16]).toBe(101.07);
  });

  it('names the program and shows its output when the prefill/decode line is missing', () => {
    expect(() => parseEngineBench('forward N=1 1.00 ms', 'engine-cli bench')).toThrow(/engine-cli bench: no "prefill 512/);
  });

  it('takes pp512, tg64 and the pp1/pp16 times from llama-bench JSON', () => {
    const json = JSON.stringify([
      { n_prompt: 512, n_gen: 0, avg_ts: 314.3, avg_ns: 1.629e9 },
      { n_prompt: 16, n_gen: 0, avg_ts: 203.0, avg_ns: 78.8e6 },
      { n_prompt: 1, n_gen: 0, avg_ts: 39.0, avg_ns: 25.66e6 },
      { n_prompt: 0, n_gen: 64, avg_ts: 39.0, avg_ns: 1.64e9 },
    ]);
    expect(parseLlamaBench(json)).toEqual({ pp512: 314.3, tg64: 39.0, pp16Ms: 78.8, pp1Ms: 25.66 });
    expect(() => parseLlamaBench('[]')).toThrow(/no result for n_prompt=512/);
  });
});

describe('llama.cpp comparison GGUF cache', () => {
  it('converts a folder once per format into the cache, with no partial file left, and reuses it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipstream-compare-'));
    dirs.push(dir);
    makeRandomModel(join(dir, 'm'), { preset: 'tiny-qwen2', dtype: 'bf16', seed: 5 });
    const cache = join(dir, 'cache');
    const plain = cachedGguf(join(dir, 'm'), cache);
    const q8 = cachedGguf(join(dir, 'm'), cache, 'q8_0');
    expect(plain).not.toBe(q8);
    expect(readdirSync(cache).sort()).toEqual([basename(plain), basename(q8)].sort());
    const made = statSync(q8).mtimeMs;
    expect(cachedGguf(join(dir, 'm'), cache, 'q8_0')).toBe(q8);
    expect(statSync(q8).mtimeMs).toBe(made);
  });
});
