/**
 * Which model and drafter an engine host loads for given engine settings: an empty model setting
 * means the shipped default pair, fixtures/models/slipstream-code{,-drafter} in this package
 * wherever it is installed (a clone, a global npm install, the VS Code extension). A configured
 * model is used as given, never replaced by the default. Paths only; nothing is loaded here.
 */
import { join } from 'node:path';
import type { Settings } from '../config.js';
import { packageRoot } from '../package-root.js';

export type ModelSource = 'default' | 'configured';

export interface ModelChoice {
  model: string;
  /** '' = no drafter. */
  drafter: string;
  source: ModelSource;
  drafterSource: ModelSource | 'none';
}

/** The shipped default model and its ReDrafter head, in this package. */
export function defaultModelDirs(): { model: string; drafter: string } {
  const models = join(packageRoot(), 'fixtures', 'models');
  return { model: join(models, 'slipstream-code'), drafter: join(models, 'slipstream-code-drafter') };
}

/** The folders to load: the configured ones, or the default pair when no model is configured. */
export function chooseModel(engine: Pick<Settings['engine'], 'model' | 'drafter'>): ModelChoice {
  if (engine.model) {
    return { model: engine.model, drafter: engine.drafter, source: 'configured', drafterSource: engine.drafter ? 'configured' : 'none' };
  }
  const shipped = defaultModelDirs();
  if (engine.drafter) return { model: shipped.model, drafter: engine.drafter, source: 'default', drafterSource: 'configured' };
  return { model: shipped.model, drafter: shipped.drafter, source: 'default', drafterSource: 'default' };
}
