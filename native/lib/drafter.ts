/**
 * Drafter: ReDrafter heads for a model (docs/redrafter.md), loaded from the folder layout Apple's
 * train.py saves. Passed to session.generate({ mode: 'redrafter', drafter }); it implements the
 * session's DraftStepper hook: one native ReDrafter round per step (draft, one tree forward,
 * exact acceptance). Loading checks every shape against the model (EngineError ENGINE_BAD_MODEL).
 */
import { resolve } from 'node:path';
import { loadBinding } from './binding.js';
import type { NativeDrafter, NativeDrafterInfo, NativeSession } from './binding-types.js';
import { EngineError, native } from './errors.js';
import type { Model } from './model.js';
import type { DraftStepper, SpeculativeStepStats } from './session.js';

export interface DrafterInfo extends NativeDrafterInfo {
  dir: string;
  /** Backend defaults for beam width M and beam length L (L counts the guaranteed token). */
  defaultBeams: number;
  defaultBeamLength: number;
}

/**
 * Candidate beams from extra drafts (docs/redrafter.md §3). `generated` (when known) holds every
 * token emitted since the prompt, the pending guaranteed token last; a draft continuing the prompt
 * is cut to start at that token. Without it, a draft is aligned on its longest prefix that matches
 * the end of the committed tokens. The engine ignores beams that do not start at the pending token,
 * so a wrong alignment costs speed, never correctness.
 */
export function alignExtraDrafts(drafts: Int32Array[], committed: Int32Array, generated?: ArrayLike<number>): { tokens: Int32Array; lens: Int32Array } {
  const parts: Int32Array[] = [];
  for (const d of drafts) {
    let k = -1;
    if (generated && generated.length > 0) {
      const g = generated.length;
      let ok = d.length > g;
      for (let i = 0; ok && i < g; i++) ok = d[i] === generated[i];
      if (ok) k = g - 1;
    } else {
      // committed ends with the text before the pending token: largest k with d[0..k) == tail(committed, k)
      for (let cand = Math.min(d.length - 2, committed.length); cand >= 0 && k < 0; cand--) {
        let ok = true;
        for (let i = 0; ok && i < cand; i++) ok = d[i] === committed[committed.length - cand + i];
        if (ok) k = cand;
      }
    }
    if (k >= 0 && d.length - k >= 2) parts.push(d.subarray(k));
  }
  const lens = Int32Array.from(parts, (p) => p.length);
  const tokens = new Int32Array(lens.reduce((a, b) => a + b, 0));
  let off = 0;
  for (const p of parts) {
    tokens.set(p, off);
    off += p.length;
  }
  return { tokens, lens };
}

export class Drafter implements DraftStepper {
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

  /** @internal One ReDrafter round on a native session (the session's DraftStepper hook). */
  async stepNative(
    session: NativeSession,
    opts: { beams?: number; beamLength?: number; extraDrafts?: Int32Array[]; maxEmit: number; generated?: ArrayLike<number> },
  ): Promise<{ ids: Int32Array; stats: SpeculativeStepStats & { extraAccepted: number } }> {
    if (!this.#native) throw new EngineError('drafter is disposed', 'ENGINE_INVALID_ARGUMENT');
    const beams = opts.beams ?? this.info.defaultBeams;
    const beamLength = opts.beamLength ?? this.info.defaultBeamLength;
    let tokens: Int32Array | null = null;
    let lens: Int32Array | null = null;
    if (opts.extraDrafts && opts.extraDrafts.length > 0) {
      const a = alignExtraDrafts(opts.extraDrafts, opts.generated ? new Int32Array(0) : session.tokens(), opts.generated);
      if (a.lens.length > 0) ({ tokens, lens } = a);
    }
    const r = await native(loadBinding().redrafterStep(session, this.#native, beams, beamLength, tokens, lens, Math.max(1, opts.maxEmit)));
    return {
      ids: r.ids,
      stats: { accepted: r.accepted, treeSize: r.treeSize, draftMs: r.draftMs, verifyMs: r.verifyMs, extraAccepted: r.extraAccepted },
    };
  }

  /** Frees the drafter's weights (after a running step, if any, settles). */
  dispose(): void {
    if (!this.#native) return;
    this.#native.dispose();
    this.#native = null;
  }
}
