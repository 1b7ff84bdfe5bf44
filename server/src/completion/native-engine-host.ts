/**
 * The engine host on the native engine (implements engine-host.ts over native/lib): owns the
 * Model, one Session per document (bounded, least recently used first out) and the Drafter; loads
 * lazily on first use; serializes every engine call (one generation at a time, shared by all
 * connections of a TCP server); reports backends. Prefix reuse happens inside Session.generate.
 * Never throws past its callers' catch: errors carry codes.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { backends, Drafter, Model, reusablePrefixLength, Tokenizer, type Session } from '../../../native/lib/index.js';
import type { Settings } from '../config.js';
import type { Logger } from '../log.js';
import { abortError } from './debouncer.js';
import type { EngineHost, EngineHostStatus, GenerateRequest, GenerateSummary, LoadedModel } from './engine-host.js';
import { Mutex } from './mutex.js';

const MAX_SESSIONS = 4;
/** KV positions per session: the prompt budget plus generated tokens, with room to spare. */
const SESSION_CONTEXT = 4096;

interface Loaded {
  model: Model;
  view: LoadedModel;
  drafter: Drafter | null;
}

export class NativeEngineHost implements EngineHost {
  private settings: Settings['engine'] | null = null;
  private loaded: Loaded | null = null;
  private loading: Promise<Loaded> | null = null;
  private error: { message: string; code: string } | null = null;
  private readonly sessions = new Map<string, Session>();
  private readonly lock = new Mutex();

  constructor(private readonly log: Logger) {}

  configure(engine: Settings['engine']): void {
    const prev = this.settings;
    this.settings = { ...engine };
    if (prev && prev.model === engine.model && prev.drafter === engine.drafter && prev.backend === engine.backend && prev.threads === engine.threads) return;
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
    if (!s || !s.model) throw Object.assign(new Error('no model configured (set slipstream.engine.model or pass --model)'), { code: 'NO_MODEL' });
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
          this.log.error(`cannot load model ${s.model}: ${this.error.message}`, this.error.code);
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
    if (!existsSync(join(s.model, 'config.json'))) {
      throw Object.assign(new Error(`${s.model} is not a model folder (no config.json)`), { code: 'ENGINE_BAD_MODEL' });
    }
    const started = performance.now();
    const [model, tokenizer] = await Promise.all([
      Model.load(s.model, { backend: s.backend, ...(s.threads > 0 ? { threads: s.threads } : {}) }),
      Tokenizer.load(s.model),
    ]);
    let drafter: Loaded['drafter'] = null;
    if (s.drafter) {
      drafter = await Drafter.load(s.drafter, model);
    }
    const info = model.info;
    this.log.info(`loaded ${s.model} (${info.architecture}, ${info.numLayers} layers) in ${Math.round(performance.now() - started)} ms`);
    return {
      model,
      drafter,
      view: {
        dir: s.model,
        tokenizer,
        maxContext: Math.min(info.maxPositionEmbeddings, SESSION_CONTEXT),
        architecture: info.architecture,
        vocabSize: info.vocabSize,
        numLayers: info.numLayers,
        hiddenSize: info.hiddenSize,
      },
    };
  }

  async *generate(req: GenerateRequest): AsyncGenerator<Int32Array, GenerateSummary | undefined, void> {
    const release = await this.lock.acquire(req.signal);
    try {
      const view = await this.ready(req.signal);
      const loaded = this.loaded!;
      const session = this.session(req.key, loaded, view);
      req.onReuse?.(reusablePrefixLength(session.tokens, req.prompt));
      const drafter = this.settings?.mode === 'redrafter' ? loaded.drafter : null;
      const gen = session.generate(req.prompt, {
        maxTokens: req.maxTokens,
        temperature: req.temperature,
        stopTokens: req.stopTokens,
        signal: req.signal,
        ...(drafter ? { mode: 'redrafter' as const, drafter } : {}),
      });
      let finished = false;
      try {
        for (;;) {
          const r = await gen.next();
          if (r.done) {
            finished = true;
            const st = r.value.stats;
            return { stoppedBy: r.value.stoppedBy, promptTokens: st.prompt_tokens, reusedTokens: st.reused_tokens, prefillMs: st.prefill_ms, decodeMs: st.decode_ms };
          }
          yield r.value.ids;
        }
      } finally {
        if (!finished) await gen.return(undefined as never).catch(() => {});
      }
    } finally {
      release();
    }
  }

  private session(key: string, loaded: Loaded, view: LoadedModel): Session {
    let s = this.sessions.get(key);
    if (s) {
      this.sessions.delete(key); // re-insert: most recently used last
    } else {
      s = loaded.model.createSession({ maxContext: view.maxContext });
      if (this.sessions.size >= MAX_SESSIONS) {
        const [oldKey, old] = this.sessions.entries().next().value!;
        this.sessions.delete(oldKey);
        old.dispose();
      }
    }
    this.sessions.set(key, s);
    return s;
  }

  closeSession(key: string): void {
    const s = this.sessions.get(key);
    if (!s) return;
    this.sessions.delete(key);
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
    return {
      state: this.loaded ? 'ready' : this.loading ? 'loading' : this.error ? 'error' : s?.model ? 'unloaded' : 'unconfigured',
      model: this.loaded?.view ?? null,
      drafterDir: this.loaded?.drafter ? (s?.drafter ?? null) : null,
      backend: s?.backend ?? 'auto',
      mode: this.loaded?.drafter && s?.mode === 'redrafter' ? 'redrafter' : 'ar',
      backends: list,
      error: this.error,
      sessions: this.sessions.size,
      memory: this.memory(),
    };
  }

  private memory(): { weightBytes: number; kvBytes: number } {
    const l = this.loaded;
    if (!l) return { weightBytes: 0, kvBytes: 0 };
    const info = l.model.info;
    // K and V (f32) per token: (2, numLayers, numKvHeads * headDim), see native/src/kv-cache.h
    const perToken = 2 * info.numLayers * info.numKvHeads * info.headDim * 4;
    let tokens = 0;
    for (const s of this.sessions.values()) tokens += s.length;
    return { weightBytes: info.weightBytes + (l.drafter?.info.weightBytes ?? 0), kvBytes: tokens * perToken };
  }

  private unload(l: Loaded): void {
    for (const s of this.sessions.values()) s.dispose();
    this.sessions.clear();
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
