/**
 * Runs every post-processing golden case under fixtures/postprocess: <filter>/*.toml runs that
 * filter alone, pipeline/*.toml runs the whole pipeline (and checks the replace range). Adding a
 * case needs no code. The case format is in fixtures/postprocess/README.md.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import type { MultilinePolicy } from '../../server/src/config.js';
import { FILTERS, postprocess } from '../../server/src/completion/postprocess/index.js';
import { parseMarked } from '../helpers/markers.js';
import { repoRoot } from '../helpers/paths.js';

const root = join(repoRoot, 'fixtures', 'postprocess');

interface Case {
  description: string;
  policy?: MultilinePolicy;
  input: { text: string };
  expected: { text: string };
}

const groups = readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory());

it('has golden cases for every filter and the pipeline', () => {
  const names = groups.map((g) => g.name).sort();
  expect(names).toEqual([...FILTERS.map(([n]) => n), 'pipeline'].sort());
});

for (const group of groups) {
  describe(group.name, () => {
    const files = readdirSync(join(root, group.name)).filter((f) => f.endsWith('.toml'));
    it.each(files)('%s', (file) => {
      const c = parse(readFileSync(join(root, group.name, file), 'utf8')) as unknown as Case;
      const input = parseMarked(c.input.text);
      const expected = parseMarked(c.expected.text);
      expect(expected.prefix, `${file}: expected and input must share the prefix`).toBe(input.prefix);
      expect(expected.suffix, `${file}: expected and input must share the suffix`).toBe(input.suffix);
      const ctx = { prefix: input.prefix, suffix: input.suffix, policy: c.policy ?? 'auto' };
      if (group.name === 'pipeline') {
        const out = postprocess(input.completion, ctx);
        expect(out.text, c.description).toBe(expected.completion);
        expect(out.replaceLength, `${c.description} (replace range)`).toBe(expected.replaceLength);
      } else {
        const filter = FILTERS.find(([n]) => n === group.name)![1];
        expect(filter(input.completion, ctx), c.description).toBe(expected.completion);
      }
    });
  });
}
