/**
 * Locates and loads the compiled addon (engine_addon.node). Looks at $SLIPSTREAM_ADDON, then the
 * Release and Debug build folders, then beside this file (the bundled server of the VS Code
 * extension, extension dist/server.js, carries the addon and the CUDA module next to it). The
 * addon itself is never bundled: its path is resolved at run time.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { NativeBinding } from './binding-types.js';
import { EngineError } from './errors.js';

/** Candidate paths for the addon, in the order they are tried. Exported for tests. */
export function addonCandidates(nativeRoot: string, env: NodeJS.ProcessEnv = process.env, here: string = __dirname): string[] {
  const list: string[] = [];
  if (env.SLIPSTREAM_ADDON) list.push(resolve(env.SLIPSTREAM_ADDON));
  list.push(join(nativeRoot, 'build', 'Release', 'engine_addon.node'));
  list.push(join(nativeRoot, 'build', 'Debug', 'engine_addon.node'));
  list.push(join(here, 'engine_addon.node'));
  return list;
}

/** The native/ folder, whether this file runs from native/lib (vitest) or dist/native/lib (built). */
export function nativeRoot(): string {
  const fromSource = resolve(__dirname, '..');
  if (existsSync(join(fromSource, 'CMakeLists.txt'))) return fromSource;
  return resolve(__dirname, '..', '..', '..', 'native');
}

let cached: NativeBinding | undefined;
let cachedPath: string | undefined;

/** Loads the addon once per process; throws EngineError(ENGINE_NOT_BUILT) with the paths tried. */
export function loadBinding(): NativeBinding {
  if (cached) return cached;
  const candidates = addonCandidates(nativeRoot());
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new EngineError(
      `native engine is not built (looked for ${candidates.join(', ')}); run: npm run build:native`,
      'ENGINE_NOT_BUILT',
    );
  }
  cached = require(found) as NativeBinding;
  cachedPath = found;
  return cached;
}

/** The file the addon was loaded from (loading it first when needed). */
export function addonPath(): string {
  loadBinding();
  return cachedPath!;
}
