/**
 * Where things are, for tests: the repository root, the built CLI, and the models in fixtures/
 * (the shipped default pair and stories260K, a real pretrained Llama kept in the repository so the
 * suite needs nothing outside it).
 */
import { join, resolve } from 'node:path';

export const repoRoot = resolve(__dirname, '..', '..');
export const cliPath = join(repoRoot, 'bin', 'slipstream.js');
export const stories260K = join(repoRoot, 'fixtures', 'models', 'stories260K');
