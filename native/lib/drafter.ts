/**
 * Drafter: ReDrafter heads for a model (docs/redrafter.md), loaded from the folder layout Apple's
 * train.py saves. Passed to session.generate({ mode: 'redrafter', drafter }), whose engine
 * generation runs one ReDrafter round per step (draft, one tree forward, exact acceptance).
 * Loading checks every shape against the model (EngineError ENGINE_BAD_MODEL).
 */
import { resolve } from 'node:path';
import { loadBinding } from './binding.js';
import type { NativeDrafter, NativeDrafterInfo } from './binding-types.js';
import { EngineError, native } from './errors.js';
import type { Model } from './model.js';

export interface DrafterInfo extends NativeDrafterInfo {
  dir: string;
  /** Backend defaults for beam width M and beam length L (L counts the guaranteed token). */
  defaultBeams: number;
  defaultBeamLength: number;
}

export class Drafter {
  readonly info: DrafterInfo;
  readonly model: Model;
  #native: NativeDrafter | null;

  private constructor(model: Model, nd: NativeDrafter, dir: string) {
    this.model = model;
    this.#native = nd;
    const defaults = loadBinding().redrafterDefaults(model.native);
    this.info = Object.freeze({ dir, ...nd.info(), defaultBeams: defaults.beams, defaultBeamLength: defaults.beamLength });
  }

  /** Loads a drafter folder (config.json + model.safetensors) and checks it against model. */
  static async load(dir: string, model: Model): Promise<Drafter> {
    if (typeof dir !== 'string' || dir.length === 0) throw new TypeError('dir must be a non-empty string');
    if (!model || typeof model !== 'object' || !('native' in model)) throw new TypeError('model must be a Model (from Model.load)');
    const abs = resolve(dir);
    const nd = await native(loadBinding().loadDrafter(abs, model.native));
    return new Drafter(model, nd, abs);
  }

  /** @internal The native heads for a generation; throws when disposed. */
  get native(): NativeDrafter {
    if (!this.#native) throw new EngineError('drafter is disposed', 'ENGINE_INVALID_ARGUMENT');
    return this.#native;
  }

  /** Frees the drafter's weights (after the generations using it end). */
  dispose(): void {
    if (!this.#native) return;
    this.#native.dispose();
    this.#native = null;
  }
}
