/**
 * The engine host on the native engine (implements engine-host.ts over native/lib): owns the
 * Model, one Session per document (a SessionPool bounded by KV bytes, least recently used first
 * out: session-pool.ts) and the Drafter; loads
 * on first use (the configured model, else the shipped default pair: default-model.ts), then for
 * mode auto calibrates plain vs ReDrafter decoding at a few tree shapes (mode-calibration.ts; or
 * takes the calibration an earlier start measured on the same files, build, threads and CPU from the
 * calibration cache, calibration-store.ts) and runs every ReDrafter generation at the decision's
 * shape (beams, beamLength); serializes every engine
 * call (one generation at a time, shared by all connections of a TCP server; a background
 * prefetch only on an idle engine, ended by the next request); reports backends.
 * Prefix reuse happens inside Session.generate, from the session's own KV and from the model's shared
 * KV block pool (a request with reuse false drops the session's KV first and turns the pool off);
 * cache.kvBudgetMB is split between the two; extra drafts go to ReDrafter generations and, where a
 * forward of a few rows was measured cheap at load (row-cost.ts), to plain ones, as prompt lookup
 * (engine.promptLookup) does; neither under engine.mode "ar". Never throws past its callers' catch: errors carry codes.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { addonPath, backends, Drafter, Model, Tokenizer, type GenerateChunk, type GenerateResult, type Session, type StepStats } from '../../../native/lib/index.js';
import { defaultSettings, type Settings } from '../config.js';
import type { Logger } from '../log.js';
import { abortError } from './debouncer.js';
import { firstUnsure } from './confidence.js';
import { chooseModel, type ModelChoice } from './default-model.js';
import type { BranchChunk, BranchRequest, EngineHost, EngineHostStatus, GenerateRequest, GenerateSummary, KvFigures, LoadedModel } from './engine-host.js';
import { cacheDirPath, calibrationIdentity, CalibrationStore } from './calibration-store.js';
import { calibratedFor, calibrate, candidateShapes, decideMode, shapeName, type Calibration, type ModeDecision, type ShapeSetting, type TreeShape } from './mode-calibration.js';
import { BackgroundGate } from './background-gate.js';
import { Mutex } from './mutex.js';
import { healingVocab } from './token-healing.js';
import { fromPerformanceNow, nowMs } from '../trace/clock.js';
import { engineStep, type EngineSpans, type EngineStep } from '../trace/engine-steps.js';
import { lookupPays, measureRowCost, rowCostReason, type RowCost } from './row-cost.js';
import { SessionPool } from './session-pool.js';
import { VERSION } from '../version.js';

/** cache.kvBudgetMB's default, until a request says otherwise. */
const DEFAULT_KV_BUDGET_BYTES = 256 * 1024 * 1024;
/**
 * How cache.kvBudgetMB is split: half for the sessions' own KV (SessionPool), half for the engine's
 * shared block pool, which keeps copies of full 16-position blocks so a document whose session was
 * dropped, or another document that starts alike, prefills only what is not resident.
 */
const sessionShare = (budget: number): number => Math.floor(budget / 2);
const poolShare = (budget: number): number => budget - sessionShare(budget);
/** KV positions per session: the prompt budget plus generated tokens, with room to spare. */
const SESSION_CONTEXT = 4096;

interface Loaded {
  model: Model;
  view: LoadedModel;
  drafter: Drafter | null;
  choice: ModelChoice;
  /** The drafter's default tree shape (null: no drafter). */
  defaults: TreeShape | null;
  /** Plain vs ReDrafter timings per tree shape (mode auto with a drafter), or null until measured. */
  calibration: Calibration | null;
  /** What a forward of checkedRows() rows costs here against one row (row-cost.ts), or null until measured or when it failed. */
  rowCost: RowCost | null;
  /** The sessions, one per document key. */
  pool: SessionPool<Session>;
}

export class NativeEngineHost implements EngineHost {
  private settings: Settings['engine'] | null = null;
  private loaded: Loaded | null = null;
  private loading: Promise<Loaded> | null = null;
  private error: { message: string; code: string } | null = null;
  private kvBudgetBytes = DEFAULT_KV_BUDGET_BYTES;
  /** Tokens that only prompt lookup's drafts proposed, accepted since the start (status). */
  private lookupAccepted = 0;
  private readonly lock = new Mutex();
  private readonly gate = new BackgroundGate();

  /**
   * calibrations: where mode auto's calibrations are kept across starts (null: measured at every
   * load); rowCost: the check of what drafts without a drafter cost (row-cost.ts; tests give fakes).
   */
  constructor(
    private readonly log: Logger,
    private readonly calibrations: CalibrationStore | null = new CalibrationStore(cacheDirPath()),
    private readonly rowCost: (model: Model, rows: number) => Promise<RowCost> = measureRowCost,
  ) {}

  configure(engine: Settings['engine']): void {
    const prev = this.settings;
    this.settings = { ...engine };
    if (prev && prev.model === engine.model && prev.drafter === engine.drafter && prev.backend === engine.backend && prev.threads === engine.threads && prev.weights === engine.weights) return;
    this.error = null;
    if (this.loaded || this.loading) {
      // Unload after the running generation (if any) finishes.
      const old = this.loading;
      this.loading = null;
      const current = this.loaded;
      this.loaded = null;
      void this.lock.run(async () => {
        const l = current ?? (await old?.catch(() => null));
        if (l) this.unload(l);
      });
    }
  }

  async ready(signal?: AbortSignal): Promise<LoadedModel> {
    if (this.loaded) return this.loaded.view;
    const s = this.settings;
    if (!s) throw Object.assign(new Error('the engine is not configured yet (initialize first)'), { code: 'NO_MODEL' });
    if (!this.loading) {
      const p = this.load(s);
      this.loading = p;
      p.then(
        (l) => {
          if (this.loading === p) {
            this.loaded = l;
            this.loading = null;
          } else this.unload(l);
        },
        (err: unknown) => {
          if (this.loading === p) this.loading = null;
          this.error = { message: (err as Error)?.message ?? String(err), code: (err as { code?: string })?.code ?? 'ENGINE_LOAD_FAILED' };
          this.log.error(`cannot load model ${chooseModel(s).model}: ${this.error.message}`, this.error.code);
        },
      );
    }
    const loading = this.loading;
    if (!signal) return (await loading).view;
    return new Promise<LoadedModel>((resolve, reject) => {
      if (signal.aborted) return reject(abortError(signal));
      const onAbort = (): void => reject(abortError(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      loading.then(
        (l) => {
          signal.removeEventListener('abort', onAbort);
          resolve(l.view);
        },
        (err: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(err);
        },
      );
    });
  }

  private async load(s: Settings['engine']): Promise<Loaded> {
    const choice = chooseModel(s);
    if (!existsSync(join(choice.model, 'config.json'))) {
      if (choice.source === 'default') {
        throw Object.assign(new Error(`the shipped default model is missing (${choice.model} has no config.json); set slipstream.engine.model`), { code: 'ENGINE_NO_DEFAULT_MODEL' });
      }
      throw Object.assign(new Error(`${choice.model} is not a model folder (no config.json)`), { code: 'ENGINE_BAD_MODEL' });
    }
    const started = performance.now();
    const [model, tokenizer] = await Promise.all([
      Model.load(choice.model, { backend: s.backend === 'remote' ? 'auto' : s.backend, weights: s.weights, ...(s.threads > 0 ? { threads: s.threads } : {}) }),
      Tokenizer.load(choice.model),
    ]);
    let drafter: Loaded['drafter'] = null;
    if (choice.drafter) {
      try {
        drafter = await Drafter.load(choice.drafter, model);
      } catch (err) {
        model.dispose();
        throw err;
      }
    }
    const info = model.info;
    let tokenBytes: LoadedModel['tokenBytes'];
    try {
      tokenBytes = tokenizer.tokenBytes(info.vocabSize);
      model.setTokenBytes(tokenBytes);  // for generations with a required prefix
      healingVocab(tokenBytes);  // token healing's index, built here rather than on the first request
    } catch (err) {
      tokenBytes = undefined;
      this.log.warn(`${choice.model}: no token bytes, so no required-prefix constraint: ${(err as Error).message}`);
    }
    const what = choice.source === 'default' ? 'the shipped default model' : 'the configured model';
    this.log.info(`loaded ${what} ${choice.model} (${info.architecture}, ${info.numLayers} layers)${drafter ? ` with drafter ${choice.drafter} (${choice.drafterSource})` : ', no drafter'} in ${Math.round(performance.now() - started)} ms`);
    const loaded: Loaded = {
      model,
      drafter,
      choice,
      defaults: drafter ? { beams: drafter.info.defaultBeams, beamLength: drafter.info.defaultBeamLength } : null,
      calibration: null,
      rowCost: null,
      // K and V per token: (2, numLayers, numKvHeads * headDim) in the model's K/V dtype (bf16 or f32), see native/src/core/kv-cache.h
      pool: new SessionPool<Session>(info.kvBytesPerToken, sessionShare(this.kvBudgetBytes)),
      view: {
        dir: choice.model,
        tokenizer,
        maxContext: Math.min(info.maxPositionEmbeddings, SESSION_CONTEXT),
        architecture: info.architecture,
        vocabSize: info.vocabSize,
        numLayers: info.numLayers,
        hiddenSize: info.hiddenSize,
        compute: { threads: info.threads, weights: info.computeDtype, kernelPath: info.kernelPath },
        ...(tokenBytes ? { tokenBytes } : {}),
      },
    };
    model.setKvPool(poolShare(this.kvBudgetBytes));
    if (s.mode === 'auto') await this.calibrate(loaded);
    await this.measureRowCost(loaded);
    return loaded;
  }

  /** engine.beams / engine.beamLength (0 = auto). */
  private shapeSetting(): ShapeSetting {
    return { beams: this.settings?.beams ?? 0, beamLength: this.settings?.beamLength ?? 0 };
  }

  /**
   * Measures plain vs ReDrafter decoding at the candidate tree shapes once per loaded pair and
   * shape settings (mode auto; again when engine.beams / engine.beamLength change), or takes the
   * calibration kept from an earlier start on the same files, build, threads and CPU; keeps a new
   * one; logs the decision.
   */
  private async calibrate(l: Loaded): Promise<void> {
    const setting = this.shapeSetting();
    if (!l.drafter || !l.defaults || (l.calibration && calibratedFor(l.calibration, l.defaults, setting))) return;
    const shapes = candidateShapes(l.defaults, setting);
    // the cache's key covers the shapes, so what it keeps was measured for these settings
    const kept = await this.keptCalibration(l, shapes);
    if (kept.calibration) {
      l.calibration = kept.calibration;
    } else {
      try {
        l.calibration = await calibrate(l.model, l.view.tokenizer, l.drafter, shapes);
      } catch (err) {
        l.calibration = null;
        this.log.warn(`mode auto: calibration failed, plain decoding: ${(err as Error).message}`);
        return;
      }
      if (kept.id && this.calibrations) {
        await this.calibrations.save(kept.id.key, kept.id.what, l.calibration).catch((err: unknown) => {
          this.log.warn(`mode auto: cannot keep the calibration in ${this.calibrations!.file}: ${(err as Error).message}`);
        });
      }
    }
    const c = l.calibration;
    const each = c.shapes.map((f) => `${shapeName(f)} ${f.msPerToken.toFixed(2)} ms/token ${f.tokensPerStep.toFixed(2)} tokens/step`).join(', ');
    const how = c.source === 'cache' ? `calibration from ${this.calibrations!.file}, measured ${c.measuredAt} in ${Math.round(c.ms)} ms` : `calibration ${Math.round(c.ms)} ms`;
    this.log.info(
      `decoding mode ${decideMode('auto', l.defaults, c, setting).reason} (${how}, ${c.promptTokens}-token prompts: plain ${c.arMsPerToken.toFixed(2)} ms/token, ${each})`,
    );
  }

  /**
   * The calibration cache's key for the loaded pair and these shapes, and what it keeps under it
   * (null when nothing, or no cache). Any error (a folder gone, an unreadable addon file) means no
   * cache for this load: it is measured as without one.
   */
  private async keptCalibration(l: Loaded, shapes: TreeShape[]): Promise<{ id: { key: string; what: string } | null; calibration: Calibration | null }> {
    if (!l.choice.drafter) return { id: null, calibration: null };
    const kept = await this.kept(l, l.choice.drafter, { shapes }, (store, key) => store.find(key), 'mode auto: no calibration cache for this load');
    return { id: kept.id, calibration: kept.value };
  }

  /** The same for the row-cost check of `rows` rows on the loaded model (its drafter not part of it). */
  private async keptRowCost(l: Loaded, rows: number): Promise<{ id: { key: string; what: string } | null; rowCost: RowCost | null }> {
    const kept = await this.kept(l, null, { shapes: [], rows }, (store, key) => store.findRowCost(key), 'drafts without a drafter: no cache of the row-cost check for this load');
    return { id: kept.id, rowCost: kept.value };
  }

  private async kept<T>(
    l: Loaded,
    drafterDir: string | null,
    measures: { shapes: TreeShape[]; rows?: number },
    find: (store: CalibrationStore, key: string) => Promise<T | null>,
    noCache: string,
  ): Promise<{ id: { key: string; what: string } | null; value: T | null }> {
    if (!this.calibrations) return { id: null, value: null };
    try {
      const info = l.model.info;
      const id = await calibrationIdentity({
        modelDir: l.choice.model, drafterDir, addonPath: addonPath(), version: VERSION,
        computeDtype: info.computeDtype, kernelPath: info.kernelPath, threads: info.threads, kvDtype: info.kvDtype, ...measures,
      });
      return { id, value: await find(this.calibrations, id.key) };
    } catch (err) {
      this.log.warn(`${noCache}: ${(err as Error).message}`);
      return { id: null, value: null };
    }
  }

  /** The decoding mode and tree shape for the current settings and the loaded pair. */
  private decision(l: Loaded | null): ModeDecision | null {
    const s = this.settings;
    if (!s || !l) return null;
    return decideMode(s.mode, l.drafter ? l.defaults : null, l.calibration, this.shapeSetting());
  }

  canPrefetch(): boolean {
    return this.loaded !== null && this.gate.idle;
  }

  /**
   * Whether prompt lookup runs for the current settings and decision, and why: engine.promptLookup
   * set, not under engine.mode "ar" nor where ReDrafter runs (its drafter drafts; lookup drafts in
   * its rounds measured slower on the shipped pair: docs/performance.md, "Lookup drafts"), and a
   * forward of its rows measured cheap enough here (row-cost.ts). null: the setting is 0 or mode "ar".
   */
  private lookupState(l: Loaded, decision: ModeDecision | null): { on: boolean; reason: string } | null {
    const s = this.settings;
    if (!s || s.mode === 'ar' || s.promptLookup <= 0) return null;
    if (decision?.chosen === 'redrafter') return { on: false, reason: 'ReDrafter runs: its drafter drafts' };
    const cost = this.checked(l);
    if (!cost) return { on: false, reason: 'the cost of its rows is not measured' };
    return { on: lookupPays(cost), reason: rowCostReason(cost) };
  }

  /** The row-cost check of the current settings' rows, when measured (null: not yet, or it failed). */
  private checked(l: Loaded): RowCost | null {
    const s = this.settings;
    return s && l.rowCost?.rows === checkedRows(s) ? l.rowCost : null;
  }

  /** Prompt lookup's draft tokens per round (engine.promptLookup), 0 when it does not run (lookupState). */
  private lookupTokens(l: Loaded, decision: ModeDecision | null): number {
    return this.lookupState(l, decision)?.on ? this.settings!.promptLookup : 0;
  }

  /**
   * Times a forward of a few rows (1 + engine.promptLookup, or 1 + its default when it is 0)
   * against one row (row-cost.ts) once per loaded model and setting, where plain decoding runs
   * (not under engine.mode "ar", nor where ReDrafter runs): whether drafts verified without a
   * drafter pay here, prompt lookup's and a diverged suggestion's rest alike. Logs the verdict; a
   * failure counts as not paying.
   */
  private async measureRowCost(l: Loaded): Promise<void> {
    const s = this.settings;
    if (!s || s.mode === 'ar' || this.decision(l)?.chosen === 'redrafter' || this.checked(l)) return;
    const rows = checkedRows(s);
    const kept = await this.keptRowCost(l, rows);
    if (kept.rowCost) {
      l.rowCost = kept.rowCost;
    } else {
      try {
        l.rowCost = await this.rowCost(l.model, rows);
      } catch (err) {
        l.rowCost = null;
        this.log.warn(`drafts without a drafter: cannot measure what their rows cost, so none: ${(err as Error).message}`);
        return;
      }
      if (kept.id && this.calibrations) {
        await this.calibrations.saveRowCost(kept.id.key, kept.id.what, l.rowCost).catch((err: unknown) => {
          this.log.warn(`drafts without a drafter: cannot keep the row-cost check in ${this.calibrations!.file}: ${(err as Error).message}`);
        });
      }
    }
    const c = l.rowCost;
    const how = c.source === 'cache' ? `kept from ${this.calibrations!.file}, measured ${c.measuredAt} in ${Math.round(c.ms)} ms` : `measured in ${Math.round(c.ms)} ms`;
    this.log.info(`drafts without a drafter (prompt lookup, a diverged suggestion's rest): ${rowCostReason(c)} (${how})`);
  }

  /**
   * Extra drafts (a diverged suggestion's rest) are verified in ReDrafter's rounds and, without
   * the drafter, in rounds of their own where the forward of a few rows was measured cheap
   * (measureRowCost); never under engine.mode "ar" (always plain decoding), nor before a load.
   */
  takesExtraDrafts(): boolean {
    return this.loaded !== null && this.draftsTaken(this.loaded, this.decision(this.loaded));
  }

  private draftsTaken(l: Loaded, decision: ModeDecision | null): boolean {
    if (!this.settings || this.settings.mode === 'ar') return false;
    if (decision?.chosen === 'redrafter') return true;
    const cost = this.checked(l);
    return cost !== null && lookupPays(cost);
  }

  /**
   * One generation. Background work (a prefetch) starts only on an idle engine and is ended by the
   * next request of any document: that request waits at most one engine step for it.
   */
  async *generate(req: GenerateRequest): AsyncGenerator<Int32Array, GenerateSummary | undefined, void> {
    const { signal, leave } = this.gate.enter(req);
    try {
      return yield* this.run({ ...req, signal });
    } finally {
      leave();
    }
  }

  /**
   * Waits for the engine (one generation at a time), loads the model, and takes the request's
   * session (its KV budget applied, its reuse noted). `release` gives both back.
   */
  private async claim(req: GenerateRequest): Promise<{ loaded: Loaded; session: Session; release: () => void }> {
    let release: () => void;
    try {
      release = await this.lock.acquire(req.signal);
    } finally {
      req.spans?.queued(nowMs());
    }
    try {
      const view = await this.ready(req.signal);
      const loaded = this.loaded!;
      if (req.kvBudgetBytes !== undefined) {
        this.kvBudgetBytes = req.kvBudgetBytes;
        loaded.pool.budgetBytes = sessionShare(req.kvBudgetBytes);
      }
      // cache.enabled off: the shared pool too is off (its blocks freed), so every request prefills cold
      loaded.model.setKvPool(req.reuse === false ? 0 : poolShare(this.kvBudgetBytes));
      const held = loaded.pool.acquire(req.key, () => loaded.model.createSession({ maxContext: view.maxContext }));
      release = chain(release, held.release);
      const session = held.session;
      if (req.reuse === false && session.length > 0) session.truncate(0);
      const reusable = session.reusablePrefixLength(req.prompt);
      loaded.pool.noteReuse(reusable);
      req.onReuse?.(reusable);
      return { loaded, session, release };
    } catch (err) {
      release();
      throw err;
    }
  }

  private async *run(req: GenerateRequest): AsyncGenerator<Int32Array, GenerateSummary | undefined, void> {
    const { loaded, session, release } = await this.claim(req);
    try {
      // mode switched to auto after the load: calibrate now, once
      if (this.settings?.mode === 'auto') await this.calibrate(loaded);
      // engine.mode or engine.promptLookup changed after the load: measure what the rows cost, once
      await this.measureRowCost(loaded);
      const decision = this.decision(loaded);
      // alternatives (plainDecoding) sample with plain decoding whatever the mode
      const drafter = decision?.chosen === 'redrafter' && !req.plainDecoding ? loaded.drafter : null;
      // the decision's tree shape for every ReDrafter generation (requests, prefetch, extra drafts alike)
      const shape = drafter ? decision!.shape : null;
      // a diverged suggestion's rest is verified in ReDrafter's rounds or, where rows are cheap, in
      // rounds of its own; prompt lookup's drafts without the drafter (lookupTokens); neither under
      // engine.mode "ar" nor for alternatives
      const drafts = !req.plainDecoding && this.draftsTaken(loaded, decision);
      const extra = drafts && req.extraDrafts?.length ? req.extraDrafts : null;
      const tokens = drafts && !drafter ? this.lookupTokens(loaded, decision) : 0;
      const lookup = tokens > 0 ? { tokens } : null;
      const unsureBelow = req.minTokenProbability ?? 0;
      const gen = session.generate(req.prompt, {
        maxTokens: req.maxTokens,
        temperature: req.temperature,
        ...(req.seed !== undefined ? { seed: req.seed } : {}),
        stopTokens: req.stopTokens,
        signal: req.signal,
        ...(req.requiredPrefix ? { requiredPrefix: req.requiredPrefix } : {}),
        ...(unsureBelow > 0 ? { logprobs: true } : {}),
        ...(drafter ? { mode: 'redrafter' as const, drafter, ...(shape ? { beams: shape.beams, beamLength: shape.beamLength } : {}) } : {}),
        ...(extra ? { extraDrafts: extra } : {}),
        ...(lookup ? { lookup } : {}),
      });
      let extraAccepted = 0;
      let finished = false;
      // for the summary of a generation ended before an unsure token
      const figures = new StepFigures(req.prompt.length);
      const steps = req.spans ? new StepTimer(req.spans, drafter ? 'redrafter' : 'ar') : null;
      try {
        for (;;) {
          steps?.begin();
          const r = await gen.next();
          if (r.done) {
            finished = true;
            const st = r.value.stats;
            steps?.last(st.forward_passes);
            return { stoppedBy: r.value.stoppedBy, promptTokens: st.prompt_tokens, reusedTokens: st.reused_tokens, prefillMs: st.prefill_ms, decodeMs: st.decode_ms };
          }
          steps?.end(r.value);
          extraAccepted += r.value.step.extraAccepted;
          this.lookupAccepted += r.value.step.lookupAccepted;
          figures.note(r.value.step);
          const cut = r.value.logprobs ? firstUnsure(r.value.logprobs, unsureBelow) : -1;
          if (cut >= 0) {
            if (cut > 0) yield r.value.ids.subarray(0, cut);
            return figures.summary('unsure');
          }
          yield r.value.ids;
        }
      } finally {
        if (!finished) await gen.return(undefined as never).catch(() => {});
        if (extra) req.onDrafts?.(extra.reduce((n, d) => n + d.length, 0), extraAccepted);
      }
    } finally {
      release();
    }
  }

  /** Any loaded model decodes branches (plain decoding). */
  decodesTogether(): boolean {
    return true;
  }

  /**
   * Branches decoded together (Session.generateBranches: one forward per step for all live
   * branches), one generation on the engine: the same queue, gate and session as generate().
   */
  async *generateTogether(req: GenerateRequest, branches: BranchRequest[]): AsyncGenerator<BranchChunk, void, void> {
    const { signal, leave } = this.gate.enter(req);
    try {
      yield* this.runTogether({ ...req, signal }, branches);
    } finally {
      leave();
    }
  }

  private async *runTogether(req: GenerateRequest, branches: BranchRequest[]): AsyncGenerator<BranchChunk, void, void> {
    const { loaded, session, release } = await this.claim(req);
    try {
      // the branches' tokens side by side must fit the session; else each branch in turn
      if (req.prompt.length + branches.length * req.maxTokens > loaded.view.maxContext) {
        yield* this.inTurn(session, req, branches);
        return;
      }
      const gen = session.generateBranches(req.prompt, {
        branches: branches.map((b) => ({ temperature: b.temperature, seed: b.seed })),
        maxTokens: req.maxTokens,
        stopTokens: req.stopTokens,
        signal: req.signal,
        ...(req.requiredPrefix ? { requiredPrefix: req.requiredPrefix } : {}),
      });
      const ends = branches.map((b, i) => {
        const end = (): void => gen.endBranch(i);
        if (b.signal.aborted) end();
        else b.signal.addEventListener('abort', end, { once: true });
        return end;
      });
      const steps = req.spans ? new StepTimer(req.spans, 'ar') : null;
      const open = new Set(branches.keys());
      const figures = new StepFigures(req.prompt.length);
      let finished = false;
      try {
        for (;;) {
          steps?.begin();
          const r = await gen.next();
          if (r.done) {
            finished = true;
            steps?.last(r.value.stats.forward_passes);
            // branches the steps did not report ended (the generation was aborted)
            const rest = [...open].map((b) => ({ branch: b, summary: figures.summary('aborted') }));
            if (rest.length > 0) yield { ids: new Int32Array(0), branches: new Int32Array(0), ended: rest };
            return;
          }
          steps?.end(r.value);
          figures.note(r.value.step);
          // ended by its caller (its seat's signal): aborted, as a generation of its own would say
          const ended = r.value.endedBy.map((why, i) => ({ branch: r.value.ended[i]!, summary: figures.summary(why === 'ended' ? 'aborted' : why) }));
          for (const e of ended) open.delete(e.branch);
          yield { ids: r.value.ids, branches: r.value.branches, ended };
        }
      } finally {
        if (!finished) await gen.return(undefined as never).catch(() => {});
        branches.forEach((b, i) => b.signal.removeEventListener('abort', ends[i]!));
      }
    } finally {
      release();
    }
  }

  /** The branches of runTogether one after another, each a plain generation of its own on the claimed session. */
  private async *inTurn(session: Session, req: GenerateRequest, branches: BranchRequest[]): AsyncGenerator<BranchChunk, void, void> {
    for (const [b, branch] of branches.entries()) {
      const gen = session.generate(req.prompt, {
        maxTokens: req.maxTokens,
        temperature: branch.temperature,
        seed: branch.seed,
        stopTokens: req.stopTokens,
        signal: AbortSignal.any([req.signal, branch.signal]),
        ...(req.requiredPrefix ? { requiredPrefix: req.requiredPrefix } : {}),
      });
      const steps = req.spans ? new StepTimer(req.spans, 'ar') : null;
      let r: IteratorResult<GenerateChunk, GenerateResult>;
      for (steps?.begin(); !(r = await gen.next()).done; steps?.begin()) {
        steps?.end(r.value);
        yield { ids: r.value.ids, branches: new Int32Array(r.value.ids.length).fill(b), ended: [] };
      }
      const st = r.value.stats;
      steps?.last(st.forward_passes);
      const summary: GenerateSummary = { stoppedBy: r.value.stoppedBy, promptTokens: st.prompt_tokens, reusedTokens: st.reused_tokens, prefillMs: st.prefill_ms, decodeMs: st.decode_ms };
      yield { ids: new Int32Array(0), branches: new Int32Array(0), ended: [{ branch: b, summary }] };
    }
  }

  closeSession(key: string): void {
    const s = this.loaded?.pool.take(key);
    if (!s) return;
    // Dispose only when no generation can be using it.
    void this.lock.run(async () => s.dispose());
  }

  status(): EngineHostStatus {
    let list: EngineHostStatus['backends'] = [];
    try {
      list = backends().map((b) => ({ name: b.name, available: b.available, ...(b.reason ? { reason: b.reason } : {}) }));
    } catch (err) {
      list = [{ name: 'engine', available: false, reason: (err as Error).message }];
    }
    const s = this.settings;
    const l = this.loaded;
    const decision = this.decision(l);
    const choice = l?.choice ?? (s ? chooseModel(s) : null);
    return {
      state: l ? 'ready' : this.loading ? 'loading' : this.error ? 'error' : s ? 'unloaded' : 'unconfigured',
      model: l?.view ?? null,
      modelSource: choice?.source ?? null,
      drafterDir: l?.drafter ? l.choice.drafter : null,
      drafterSource: l ? (l.drafter ? l.choice.drafterSource : 'none') : null,
      backend: s?.backend ?? 'auto',
      // this build runs models on the CPU backend only (the engine refuses 'cuda' at load)
      backendInUse: l ? 'cpu' : null,
      mode: decision?.chosen ?? 'ar',
      modeSetting: s?.mode ?? 'auto',
      modeDecision: decision,
      lookup: this.lookupStatus(l, decision),
      backends: list,
      error: this.error,
      sessions: l?.pool.size ?? 0,
      memory: this.memory(),
      kv: l ? this.kvFigures(l) : { bytes: 0, budgetBytes: this.kvBudgetBytes, sessions: 0, hits: 0, evictions: 0 },
    };
  }

  private lookupStatus(l: Loaded | null, decision: ModeDecision | null): EngineHostStatus['lookup'] {
    const state = l ? this.lookupState(l, decision) : null;
    return state ? { tokens: this.settings!.promptLookup, ...state, accepted: this.lookupAccepted } : null;
  }

  /** The sessions' KV and the engine's block pool together (the budget is shared: sessionShare / poolShare). */
  private kvFigures(l: Loaded): KvFigures {
    const sessions = l.pool.figures();
    const p = l.model.kvPool();
    return {
      ...sessions,
      bytes: sessions.bytes + p.bytes,
      budgetBytes: this.kvBudgetBytes,
      blocks: p.blocks,
      pool: { bytes: p.bytes, budgetBytes: p.budgetBytes, blocks: p.blocks, hits: p.hits, evictions: p.evictions },
    };
  }

  private memory(): { weightBytes: number; kvBytes: number } {
    const l = this.loaded;
    if (!l) return { weightBytes: 0, kvBytes: 0 };
    return { weightBytes: l.model.info.weightBytes + (l.drafter?.info.weightBytes ?? 0), kvBytes: l.pool.bytes() + l.model.kvPool().bytes };
  }

  private unload(l: Loaded): void {
    l.pool.clear();
    l.drafter?.dispose();
    l.model.dispose();
  }

  async dispose(): Promise<void> {
    await this.lock.run(async () => {
      const l = this.loaded ?? (await this.loading?.catch(() => null)) ?? null;
      this.loaded = null;
      this.loading = null;
      if (l) this.unload(l);
    });
  }
}

/** engine.promptLookup's default: the draft the row-cost check times when the setting is 0. */
const DEFAULT_LOOKUP_TOKENS = defaultSettings().engine.promptLookup;

/** The rows of the cost check (row-cost.ts): prompt lookup's draft and its guaranteed token. */
function checkedRows(s: Settings['engine']): number {
  return 1 + (s.promptLookup > 0 ? s.promptLookup : DEFAULT_LOOKUP_TOKENS);
}

/** Runs `a` then `b` (releasing the session before the engine lock). */
function chain(a: () => void, b: () => void): () => void {
  return () => {
    b();
    a();
  };
}

/** A generation's figures as its steps arrive (the first is the prefill), for a summary before its end. */
class StepFigures {
  private prefill: { reusedTokens: number; prefillMs: number } | null = null;
  private decodeMs = 0;

  constructor(private readonly promptTokens: number) {}

  note(step: StepStats): void {
    if (this.prefill) this.decodeMs += step.stepMs;
    else this.prefill = { reusedTokens: step.reusedTokens, prefillMs: step.stepMs };
  }

  summary(stoppedBy: GenerateSummary['stoppedBy']): GenerateSummary {
    return { stoppedBy, promptTokens: this.promptTokens, ...(this.prefill ?? { reusedTokens: 0, prefillMs: 0 }), decodeMs: this.decodeMs };
  }
}

/**
 * Times a Session.generate loop for a trace: each chunk is one engine step (the first the prefill,
 * then one decode round each, of the kind the engine reports: a plain step, a ReDrafter round or
 * a round of drafts without a drafter), reported with the chunk's own figures. A round is placed
 * where the engine ran it (its end, endedAt, less its engine time): the steps run ahead of this
 * loop, so a round often ended before the loop asked for it. The prefill is timed from the loop's
 * ask. A final next() that ran a step without emitting (a stop token) is reported too, from the
 * generation's forward-pass count, as the kind of the round before it.
 */
class StepTimer {
  private at = 0;
  private count = 0;

  constructor(
    private readonly spans: EngineSpans,
    private mode: Exclude<EngineStep['kind'], 'prefill'>,
  ) {}

  begin(): void {
    this.at = nowMs();
  }

  end(chunk: GenerateChunk | null): void {
    const first = this.count++ === 0;
    if (!first && chunk && chunk.step.kind !== 'prefill') this.mode = chunk.step.kind;
    const kind = first ? 'prefill' : this.mode;
    if (kind === 'prefill' || !chunk) {
      this.spans.step(engineStep(kind, this.at, nowMs(), chunk));
      return;
    }
    const end = fromPerformanceNow(chunk.endedAt);
    this.spans.step(engineStep(kind, end - chunk.step.stepMs, end, chunk));
  }

  /** The generation ended; `forwardPasses` counts its steps (the prefill included). */
  last(forwardPasses: number): void {
    if (forwardPasses > this.count) this.end(null);
  }
}
