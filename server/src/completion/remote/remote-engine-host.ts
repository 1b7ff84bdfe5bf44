/**
 * The engine host over a remote serving engine (implements engine-host.ts): vLLM, SGLang,
 * TensorRT-LLM's trtllm-serve or llama.cpp's llama-server behind HTTP (engine.remote). The prompt
 * is built locally, with the tokenizer files of engine.model (no weights are read), and sent as
 * token ids unless engine.remote.prompt says text; one streaming request per generation, aborted
 * when the generation stops early or is cancelled. Requests run concurrently (the server
 * batches). After a failure no request goes out until the backoff has passed; a success clears
 * it. The API key comes from the environment variable engine.remote.apiKeyEnv names and appears
 * in no log, status or trace. With completion.minTokenProbability the request asks for the
 * generated tokens' log-probabilities and the generation ends before the first unsure token, as
 * the native host's does (confidence.ts); a server that reports none is not cut. No token healing: these APIs cannot require an output prefix, so
 * the loaded model carries no token bytes and the provider leaves the prompt unhealed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Agent } from 'undici';
import { Tokenizer } from '../../../../native/lib/tokenizer.js';
import type { Settings } from '../../config.js';
import type { Logger } from '../../log.js';
import type { RemoteExchange, RemoteStatus } from '../../protocol.js';
import { abortError } from '../debouncer.js';
import { firstUnsure } from '../confidence.js';
import { errorCode, isAbort } from '../engine-errors.js';
import type { EngineHost, EngineHostStatus, GeneratedChunk, GenerateRequest, GenerateSummary, LoadedModel } from '../engine-host.js';
import { Backoff } from './backoff.js';
import { postEventStream, publicUrl, RemoteError } from './event-stream.js';
import { firstModelId, REMOTE_APIS, type ApiEvent } from './remote-api.js';
import { loadUndici } from './undici.js';

type Remote = Settings['engine']['remote'];

/** Prompt positions when config.json does not say (the server's own limit answers beyond it). */
const DEFAULT_CONTEXT = 4096;
/** Idle keep-alive connections stay open this long for the next keystroke. */
const KEEP_ALIVE_MS = 60_000;

/** HTTP statuses that are about this one request (its prompt or parameters), not the server's health. */
const REQUEST_SPECIFIC = new Set([400, 413, 422]);

export interface RemoteEngineHostOptions {
  /** Backoff after failures (tests shorten it). */
  backoff?: { baseMs: number; maxMs: number };
}

function readConfig(dir: string): Record<string, unknown> {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) return {};
  try {
    const j = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    return j && typeof j === 'object' && !Array.isArray(j) ? (j as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The URL to POST to: the API's path under the base URL (an OpenAI base URL ending in /v1 works too). */
export function endpointUrl(base: string, api: Remote['api']): string {
  const b = base.replace(/\/+$/, '');
  if (api === 'openai' && b.endsWith('/v1')) return `${b}/completions`;
  return `${b}${REMOTE_APIS[api].path}`;
}

/** What one event adds to the generation: its chunk, the tokens it stands for, and why it ends the generation. */
interface EventOutput {
  chunk: GeneratedChunk | null;
  tokens: number;
  ended?: 'eos' | 'unsure';
}

/**
 * One event's output, cut before a stop token the server does not end on (llama.cpp's
 * end-of-generation set is its own) or before the first token below minProbability, whichever
 * comes first. Text without pieces cut inside the event keeps none of it (the last token
 * boundary known).
 */
export function eventOutput(ev: ApiEvent, stop: ReadonlySet<number>, minProbability: number): EventOutput {
  if (ev.ids) {
    const stopAt = ev.ids.findIndex((id) => stop.has(id));
    const end = stopAt >= 0 ? stopAt : ev.ids.length;
    const unsure = ev.logprobs ? firstUnsure(ev.logprobs.slice(0, end), minProbability) : -1;
    const n = unsure >= 0 ? unsure : end;
    const ended = unsure >= 0 ? 'unsure' : stopAt >= 0 ? 'eos' : undefined;
    return { chunk: n > 0 ? Int32Array.from(ev.ids.slice(0, n)) : null, tokens: n, ...(ended ? { ended } : {}) };
  }
  const unsure = ev.logprobs ? firstUnsure(ev.logprobs, minProbability) : -1;
  if (unsure < 0) {
    const tokens = ev.logprobs?.length || 1;
    return ev.text ? { chunk: { text: ev.text, tokens }, tokens } : { chunk: null, tokens: 0 };
  }
  const text = ev.pieces ? ev.pieces.slice(0, unsure).join('') : '';
  return { chunk: text ? { text, tokens: unsure } : null, tokens: unsure, ended: 'unsure' };
}

const int = (v: unknown, fallback: number): number => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : fallback);

export class RemoteEngineHost implements EngineHost {
  private settings: Settings['engine'] | null = null;
  private apiKey = '';
  private loaded: LoadedModel | null = null;
  private loading: Promise<LoadedModel> | null = null;
  private loadError: { message: string; code: string } | null = null;
  private lastError: { message: string; code: string } | null = null;
  private agent: Agent | null = null;
  private backoff: Backoff;
  private inflight = 0;
  private readonly counts = { requests: 0, failures: 0, skipped: 0 };
  private last: RemoteExchange | null = null;
  /** The served model's id from GET /v1/models, asked once when engine.remote.model is '' (openai). */
  private servedModel: Promise<string> | null = null;
  /** Said once per configuration: the server answered without the token probabilities asked for. */
  private saidNoProbabilities = false;

  constructor(
    private readonly log: Logger,
    private readonly options: RemoteEngineHostOptions = {},
  ) {
    this.backoff = this.newBackoff();
  }

  private newBackoff(): Backoff {
    return new Backoff(this.options.backoff?.baseMs, this.options.backoff?.maxMs);
  }

  configure(engine: Settings['engine']): void {
    const prev = this.settings;
    this.settings = { ...engine, remote: { ...engine.remote } };
    const r = engine.remote;
    // Read once per configuration, from this process's environment only.
    this.apiKey = r.apiKeyEnv ? (process.env[r.apiKeyEnv] ?? '') : '';
    if (r.apiKeyEnv && !this.apiKey) this.log.warn(`engine.remote.apiKeyEnv names ${r.apiKeyEnv}, which is not set in the server's environment: requests go without a key`);
    if (prev && prev.model === engine.model && JSON.stringify(prev.remote) === JSON.stringify(r)) return;
    if (prev?.model !== engine.model) {
      this.loaded = null;
      this.loading = null;
      this.loadError = null;
    }
    if (!prev || prev.remote.url !== r.url || prev.remote.timeoutMs !== r.timeoutMs) {
      void this.agent?.close().catch(() => {});
      this.agent = null;
    }
    this.backoff = this.newBackoff();
    this.lastError = null;
    this.servedModel = null;
    this.saidNoProbabilities = false;
  }

  async ready(signal?: AbortSignal): Promise<LoadedModel> {
    if (this.loaded) return this.loaded;
    const s = this.settings;
    if (!s || !s.model) {
      throw Object.assign(new Error('no model configured: the remote backend needs engine.model, the folder of the served model\'s tokenizer files (config.json, tokenizer.json)'), { code: 'NO_MODEL' });
    }
    if (!this.loading) {
      const dir = s.model;
      const p = this.load(dir);
      this.loading = p;
      p.then(
        (m) => {
          if (this.loading !== p) return;
          this.loaded = m;
          this.loading = null;
        },
        (err: unknown) => {
          if (this.loading !== p) return;
          this.loading = null;
          this.loadError = { message: (err as Error)?.message ?? String(err), code: errorCode(err) === 'INTERNAL' ? 'ENGINE_BAD_MODEL' : errorCode(err) };
          this.log.error(`cannot load the tokenizer of ${dir}: ${this.loadError.message}`, this.loadError.code);
        },
      );
    }
    const loading = this.loading;
    if (signal?.aborted) throw abortError(signal);
    if (!signal) return loading;
    return new Promise<LoadedModel>((resolve, reject) => {
      const onAbort = (): void => reject(abortError(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      loading.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  private async load(dir: string): Promise<LoadedModel> {
    const tokenizer = await Tokenizer.load(dir);
    const config = readConfig(dir);
    const maxContext = Math.min(int(config.max_position_embeddings, DEFAULT_CONTEXT), DEFAULT_CONTEXT);
    this.log.info(`remote engine: prompts built with the tokenizer of ${dir}`);
    return {
      dir,
      tokenizer,
      maxContext,
      architecture: typeof config.model_type === 'string' ? config.model_type : 'remote',
      vocabSize: int(config.vocab_size, 0),
      numLayers: int(config.num_hidden_layers, 0),
      hiddenSize: int(config.hidden_size, 0),
    };
  }

  private async dispatcher(): Promise<Agent> {
    const { Agent } = await loadUndici();
    this.agent ??= new Agent({ keepAliveTimeout: KEEP_ALIVE_MS, keepAliveMaxTimeout: 10 * KEEP_ALIVE_MS, connect: { timeout: this.settings?.remote.timeoutMs ?? 10_000 } });
    return this.agent;
  }

  async *generate(req: GenerateRequest): AsyncGenerator<GeneratedChunk, GenerateSummary | undefined, void> {
    const model = await this.ready(req.signal);
    const r = this.settings!.remote;
    if (!r.url) throw new RemoteError('engine.backend is "remote" but engine.remote.url is empty', 'ENGINE_REMOTE_UNCONFIGURED');
    if (this.backoff.remaining() > 0 && this.lastError) {
      this.counts.skipped++;
      throw new RemoteError(`${this.lastError.message} (no new attempt during a ${this.backoffWindow()} ms backoff)`, this.lastError.code as RemoteError['code']);
    }
    const api = REMOTE_APIS[r.api];
    const url = endpointUrl(r.url, r.api);
    const tok = model.tokenizer;
    const stop = new Set(req.stopTokens);
    const unsureBelow = req.minTokenProbability ?? 0;
    const exchange: RemoteExchange = { endpoint: publicUrl(url), api: r.api, tokens: 0, ended: 'failed' };
    const ids = Array.from(req.prompt);
    const body = api.body({
      // As text, without the BOS the server adds itself when it tokenizes.
      prompt: r.prompt === 'ids' ? ids : tok.decode(tok.bosTokenId !== null && ids[0] === tok.bosTokenId ? ids.slice(1) : ids, { skipSpecialTokens: false }),
      maxTokens: req.maxTokens,
      temperature: req.temperature,
      ...(req.seed !== undefined ? { seed: req.seed } : {}),
      stopText: req.stopTokens.map((id) => tok.decode([id], { skipSpecialTokens: false })).filter((t) => t !== ''),
      model: r.api === 'openai' && !r.model ? await this.modelName(r, req.signal) : r.model,
      ...(unsureBelow > 0 ? { logprobs: true } : {}),
    });
    this.counts.requests++;
    this.inflight++;
    const sentAt = performance.now();
    let firstAt = 0;
    let reachedServer = false;
    let outcome: RemoteExchange['ended'] | null = null;
    let final: ApiEvent = {};
    let sawIds = false;
    let sawProbabilities = false;
    let stoppedBy: GenerateSummary['stoppedBy'] | null = null;
    try {
      const stream = await postEventStream(url, body, {
        headers: this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {},
        signal: req.signal,
        timeoutMs: r.timeoutMs,
        dispatcher: await this.dispatcher(),
        secrets: [this.apiKey],
      });
      reachedServer = true;
      exchange.status = stream.status;
      exchange.ttfbMs = stream.headersAt - sentAt;
      let finished = false;
      try {
        for await (const data of stream.events) {
          // After the final event, read on to the end of the response so the connection is reused.
          if (finished) continue;
          const ev = api.parse(data);
          if (ev.cachedTokens !== undefined && exchange.cachedTokens === undefined) {
            exchange.cachedTokens = ev.cachedTokens;
            req.onReuse?.(ev.cachedTokens);
          }
          if (ev.promptTokens !== undefined || ev.completionTokens !== undefined || ev.cachedTokens !== undefined) final = { ...final, ...ev };
          if (ev.ids) sawIds = true;
          if (ev.logprobs) sawProbabilities = true;
          const { chunk, tokens, ended } = eventOutput(ev, stop, unsureBelow);
          exchange.tokens += tokens;
          if (ended) stoppedBy = ended;
          if (chunk) {
            if (firstAt === 0) {
              firstAt = performance.now();
              exchange.firstTokenMs = firstAt - sentAt;
            }
            yield chunk;
          }
          stoppedBy ??= ev.end ?? null;
          if (ev.finished) finished = true;
          // A stop token the server would generate past, or an unsure token: end the request, so it stops.
          if (ended && !finished) break;
        }
      } catch (err) {
        if (!finished || req.signal.aborted) throw err; // a failure after the final event loses nothing
      }
      if (!stoppedBy) throw new RemoteError(`${exchange.endpoint} ended the stream before the completion finished`, 'ENGINE_REMOTE_BAD_STREAM');
      outcome = 'completed';
      if (unsureBelow > 0 && !sawProbabilities && exchange.tokens > 0) this.noProbabilities(exchange.endpoint);
      if (!sawIds && final.completionTokens !== undefined) exchange.tokens = final.completionTokens;
      if (final.cachedTokens !== undefined) exchange.cachedTokens = final.cachedTokens;
      this.succeeded();
      const end = performance.now();
      return {
        stoppedBy,
        promptTokens: final.promptTokens ?? req.prompt.length,
        reusedTokens: final.cachedTokens ?? 0,
        prefillMs: (firstAt || end) - sentAt,
        decodeMs: firstAt ? end - firstAt : 0,
      };
    } catch (err) {
      if (isAbort(err) || req.signal.aborted) {
        outcome = 'aborted';
        throw req.signal.aborted ? abortError(req.signal) : err;
      }
      outcome = 'failed';
      this.failed(err, exchange);
      throw err;
    } finally {
      // No outcome: the consumer stopped the generation early (it had what it needed).
      exchange.ended = outcome ?? 'aborted';
      if (exchange.ended === 'aborted' && reachedServer) this.succeeded();
      if (firstAt) exchange.streamMs = performance.now() - firstAt;
      this.inflight--;
      this.last = exchange;
      req.onRemote?.(exchange);
    }
  }

  /**
   * The model name for OpenAI requests when engine.remote.model is empty: some servers require
   * one (trtllm-serve), so ask GET /v1/models once; '' (leave it out) when the server does not say.
   */
  private modelName(r: Remote, signal: AbortSignal): Promise<string> {
    this.servedModel ??= (async () => {
      try {
        const { fetch } = await loadUndici();
        const res = await fetch(endpointUrl(r.url, 'openai').replace(/\/completions$/, '/models'), {
          headers: this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {},
          dispatcher: await this.dispatcher(),
          signal: AbortSignal.any([signal, AbortSignal.timeout(r.timeoutMs)]),
        });
        const id = res.ok ? firstModelId(await res.json()) : undefined;
        if (id) this.log.info(`remote engine: requests name the model the server lists, ${id}`);
        return id ?? '';
      } catch {
        this.servedModel = null; // ask again next time
        return '';
      }
    })();
    return this.servedModel;
  }

  /** Once per configuration: a server that reports no token probabilities leaves suggestions uncut. */
  private noProbabilities(endpoint: string): void {
    if (this.saidNoProbabilities) return;
    this.saidNoProbabilities = true;
    this.log.info(`remote engine ${endpoint} reports no token probabilities: suggestions are not cut at completion.minTokenProbability`);
  }

  private backoffWindow(): number {
    return Math.min(this.backoff.maxMs, this.backoff.baseMs * 2 ** Math.max(0, this.backoff.failures - 1));
  }

  private succeeded(): void {
    if (this.backoff.failures > 0) this.log.info(`remote engine ${publicUrl(this.settings!.remote.url)} answers again after ${this.backoff.failures} failed attempt(s)`);
    this.backoff.succeed();
    this.lastError = null;
  }

  private failed(err: unknown, exchange: RemoteExchange): void {
    this.counts.failures++;
    const message = (err as Error)?.message ?? String(err);
    const code = errorCode(err);
    const status = (err as RemoteError).status;
    if (code === 'ENGINE_REMOTE_HTTP' && status !== undefined && REQUEST_SPECIFIC.has(status)) return; // the server is fine
    this.lastError = { message, code };
    const wait = this.backoff.fail();
    this.log.warn(`remote engine ${exchange.endpoint}: ${message} [${code}]; next attempt in ${wait} ms at the earliest`);
  }

  /** The serving engine takes a prompt and nothing else: extra drafts are never sent. */
  takesExtraDrafts(): boolean {
    return false;
  }

  closeSession(): void {
    // The server keeps its own per-slot caches; there is nothing to free here.
  }

  status(): EngineHostStatus {
    const s = this.settings;
    const r = s?.remote;
    const failing = this.backoff.failures > 0 && this.lastError !== null;
    const remote: RemoteStatus | undefined = r && {
      url: r.url ? publicUrl(r.url) : '',
      api: r.api,
      model: r.model,
      apiKeyEnv: r.apiKeyEnv,
      apiKeySet: this.apiKey !== '',
      ...this.counts,
      retryInMs: Math.round(this.backoff.remaining()),
      last: this.last,
    };
    return {
      state: !s?.model || !r?.url ? 'unconfigured' : this.loading ? 'loading' : this.loadError || failing ? 'error' : this.loaded ? 'ready' : 'unloaded',
      model: this.loaded,
      drafterDir: null,
      backend: 'remote',
      mode: 'remote',
      backends: [{ name: 'remote', available: !failing, ...(failing ? { reason: this.lastError!.message } : {}) }],
      error: this.loadError ?? (failing ? this.lastError : null),
      sessions: this.inflight,
      ...(remote ? { remote } : {}),
    };
  }

  async dispose(): Promise<void> {
    const a = this.agent;
    this.agent = null;
    await a?.close().catch(() => {});
  }
}
