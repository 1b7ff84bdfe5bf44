/**
 * What the native LSP tests type into: the lines of fixtures/workspace/src/lru-cache.ts, and the
 * first item's text of an inline completion answer ('' for none).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InlineCompletionList } from 'vscode-languageserver-protocol';
import { repoRoot } from './paths.js';

export const lruCacheLines: readonly string[] = readFileSync(join(repoRoot, 'fixtures', 'workspace', 'src', 'lru-cache.ts'), 'utf8').split('\n');

export const firstInsertText = (list: InlineCompletionList | null): string => (list?.items[0]?.insertText as string | undefined) ?? '';
