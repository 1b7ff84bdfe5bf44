/**
 * Where things are, for tests: the repository root (the package root, found as the server finds
 * it), the built CLI, and the models in fixtures/ (the shipped default pair and stories260K, a real
 * pretrained Llama kept in the repository so the suite needs nothing outside it).
 */
import { join } from 'node:path';
import { cliPath as slipstreamCli } from '../../bench/lib/lsp-client.js';
import { defaultModelDirs } from '../../server/src/completion/default-model.js';
import { packageRoot } from '../../server/src/package-root.js';

export const repoRoot = packageRoot();
export const cliPath = slipstreamCli();
export const stories260K = join(repoRoot, 'fixtures', 'models', 'stories260K');
/** The shipped default model and its drafter (the folders the server loads with none configured). */
export const { model: shippedModel, drafter: shippedDrafter } = defaultModelDirs();
