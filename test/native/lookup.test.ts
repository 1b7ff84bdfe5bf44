/**
 * Lookup drafts through the TypeScript API (GenerateOptions.lookup; docs/engine.md, "Lookup
 * drafts") on the shipped model: greedy output with lookup equals greedy output without it token
 * for token, with and without the drafter, on a prompt that repeats (lookupAccepted > 0 there, steps
 * of kind 'drafts'); extraDrafts verified with mode 'ar'; a sampled run's validity (ids in the
 * vocabulary, the same seed gives the same output twice); option validation; `slipstream generate
 * --lookup` prints the same ids as without it.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Drafter, LOOKUP_DEFAULTS, Model, Tokenizer, type GenerateOptions, type Session, type StepStats } from '../../native/lib/index.js';
import { cliPath, repoRoot } from '../helpers/paths.js';

const shippedModel = join(repoRoot, 'fixtures', 'models', 'slipstream-code');
const shippedDrafter = join(repoRoot, 'fixtures', 'models', 'slipstream-code-drafter');

// Code that repeats itself: the continuation copies identifiers, call shapes and whole lines.
const REPEATING =
  'export function addUser(users: Map<string, User>, user: User): void {\n' +
  '  users.set(user.id, user);\n' +
  '  log.info(`added user ${user.id}`);\n' +
  '}\n\n' +
  'export function removeUser(users: Map<string, User>, user: User): void {\n' +
  '  users.delete(user.id);\n' +
  '  log.info(`removed user ${user.id}`);\n' +
  '}\n\n' +
  'export function addGroup(groups: Map<string, Group>, group: Group): void {\n';

interface Run {
  ids: number[];
  steps: StepStats[];
  lookupAccepted: number;
}

async function run(session: Session, prompt: Int32Array, opts: GenerateOptions): Promise<Run> {
  const gen = session.generate(prompt, opts);
  const steps: StepStats[] = [];
  const ids: number[] = [];
  for (;;) {
    const r = await gen.next();
    if (r.done) {
      expect(Array.from(r.value.ids)).toEqual(ids);
      return { ids, steps, lookupAccepted: r.value.stats.lookup_accepted };
    }
    ids.push(...r.value.ids);
    steps.push(r.value.step);
  }
}

let model: Model;
let drafter: Drafter;
let session: Session;
let prompt: Int32Array;

beforeAll(async () => {
  model = await Model.load(shippedModel, { backend: 'cpu', threads: 1 });
  drafter = await Drafter.load(shippedDrafter, model);
  const tok = await Tokenizer.load(shippedModel);
  prompt = tok.encode(REPEATING);
  session = model.createSession({ maxContext: 512 });
});
afterAll(() => {
  session?.dispose();
  drafter?.dispose();
  model?.dispose();
});

describe('lookup drafts', () => {
  it('greedy output equals greedy output without lookup, and lookup drafts are accepted', async () => {
    const plain = await run(session, prompt, { maxTokens: 48, stopTokens: [] });
    expect(plain.ids.length).toBe(48);
    expect(plain.lookupAccepted).toBe(0);
    let accepted = 0;
    for (const lookup of [{ tokens: 10 }, { tokens: 1 }, { tokens: 63, minNgram: 1, maxNgram: 8, maxDrafts: 16 }, { tokens: 4, maxNgram: 2, maxDrafts: 1 }]) {
      const r = await run(session, prompt, { maxTokens: 48, stopTokens: [], lookup });
      expect(r.ids, JSON.stringify(lookup)).toEqual(plain.ids);
      for (const s of r.steps.slice(1)) {
        expect(['ar', 'drafts']).toContain(s.kind);
        expect(s.lookupAccepted).toBeLessThanOrEqual(s.accepted);
        if (s.kind === 'ar') expect(s.treeSize).toBe(1);
      }
      expect(r.lookupAccepted).toBe(r.steps.reduce((a, s) => a + s.lookupAccepted, 0));
      accepted += r.lookupAccepted;
    }
    expect(accepted).toBeGreaterThan(0);
  });

  it('with the drafter: lookup drafts join its tree, the output stays plain greedy', async () => {
    const plain = await run(session, prompt, { maxTokens: 40, stopTokens: [] });
    const r = await run(session, prompt, { maxTokens: 40, stopTokens: [], mode: 'redrafter', drafter, lookup: { tokens: 10 } });
    expect(r.ids).toEqual(plain.ids);
    expect(r.steps.slice(1).every((s) => s.kind === 'redrafter')).toBe(true);
  });

  it("verifies extraDrafts with mode 'ar' (no drafter)", async () => {
    const plain = await run(session, prompt, { maxTokens: 32, stopTokens: [] });
    const r = await run(session, prompt, { maxTokens: 32, stopTokens: [], extraDrafts: [Int32Array.from(plain.ids)] });
    expect(r.ids).toEqual(plain.ids);
    expect(r.steps[1]!.kind).toBe('drafts');
    expect(r.steps.length).toBeLessThan(plain.steps.length);
  });

  it('sampled: ids in the vocabulary, the same seed gives the same output', async () => {
    const opts: GenerateOptions = { maxTokens: 40, stopTokens: [], temperature: 0.8, topK: 40, seed: 5, lookup: { tokens: 10 } };
    const a = await run(session, prompt, opts);
    const b = await run(session, prompt, opts);
    expect(a.ids).toEqual(b.ids);
    expect(a.ids.length).toBe(40);
    for (const id of a.ids) expect(id >= 0 && id < model.info.vocabSize).toBe(true);
  });

  it('validates the options', () => {
    const bad = (lookup: unknown, msg: RegExp): void => {
      expect(() => session.generate(prompt, { maxTokens: 4, lookup } as GenerateOptions)).toThrow(msg);
    };
    bad(null, /lookup must be an object/);
    bad({}, /lookup.tokens is required/);
    bad({ tokens: 0 }, /lookup.tokens must be an integer between 1 and 63/);
    bad({ tokens: 64 }, /lookup.tokens must be an integer between 1 and 63/);
    bad({ tokens: 1.5 }, /lookup.tokens/);
    bad({ tokens: 4, minNgram: 0 }, /lookup.minNgram must be an integer between 1 and 16/);
    bad({ tokens: 4, maxNgram: 17 }, /lookup.maxNgram must be an integer between 1 and 16/);
    bad({ tokens: 4, minNgram: 3, maxNgram: 2 }, /must not exceed lookup.maxNgram/);
    bad({ tokens: 4, maxDrafts: 0 }, /lookup.maxDrafts must be an integer between 1 and 16/);
    bad({ tokens: 4, ngram: 2 }, /unknown option 'ngram'/);
    expect(LOOKUP_DEFAULTS).toEqual({ minNgram: 2, maxNgram: 4, maxDrafts: 1 });
  });
});

describe('slipstream generate --lookup', () => {
  const generate = (args: string[]): { ids: number[]; stats: Record<string, number> } =>
    JSON.parse(execFileSync(process.execPath, [cliPath, 'generate', '--prompt', REPEATING, '--max-tokens', '32', ...args, '--json'], { encoding: 'utf8', timeout: 60_000 }));

  it('prints the ids plain decoding gives, with the tokens prompt lookup proposed', () => {
    const plain = generate([]);
    const lookup = generate(['--lookup', '4']);
    expect(lookup.ids).toEqual(plain.ids);
    expect(plain.stats.lookup_accepted).toBe(0);
    expect(lookup.stats.lookup_accepted).toBeGreaterThan(0);
    expect(lookup.stats.forward_passes).toBeLessThan(plain.stats.forward_passes);
  });
});
