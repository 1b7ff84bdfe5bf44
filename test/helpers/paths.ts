/**
 * Where things are, for tests: the repository root, the built CLI, and ../shared (which may be
 * absent: tests that need it skip with a message).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(__dirname, '..', '..');
export const cliPath = join(repoRoot, 'bin', 'slipstream.js');
export const sharedDir = process.env.SLIPSTREAM_SHARED_DIR ?? resolve(repoRoot, '..', 'shared');
export const stories260K = join(sharedDir, 'models', 'stories260K');

/** The reason a test that needs ../shared/models/stories260K is skipped, or undefined when it is there. */
export function stories260KMissing(): string | undefined {
  return existsSync(join(stories260K, 'model.safetensors')) ? undefined : `skipped: ${stories260K} is absent`;
}
