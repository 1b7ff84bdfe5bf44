/**
 * The completion pipeline for one request: supersede older work for the same document (or wait
 * for it when the request extends its running generation: attachment.ts), answer from the
 * suggestion cache when typing through, debounce, build the prompt, stream the engine's tokens
 * (with a diverged suggestion's rest as extra drafts; stopping early at the end of the line or
 * scope), drop the result if the document moved on, post-process, write it with the document's
 * line ending; after a shown suggestion, on an idle engine, compute the one that follows its
 * acceptance (prefetch.ts, cache.prefetch). cache.enabled off turns every cross-keystroke reuse off. At most MAX_PENDING
 * requests of one connection are in flight: a new one supersedes the oldest (answered with no
 * items, like a superseded keystroke).
 * Engine errors are logged with their code and answered with no items; they never escape.
 */
import { LRUCache } from 'lru-cache';
import type { Settings } from '../config.js';
import type { Logger } from '../log.js';
import type { Outcome } from '../protocol.js';
import { buildPrompt, decodeContinuation, PromptState, wellFormed } from './context.js';
import { AdaptiveDebouncer, abortError, wait } from './debouncer.js';
import { errorCode, isAbort } from './engine-errors.js';
import type { EngineHost, GenerateRequest, LoadedModel, TokenizerLike } from './engine-host.js';
import { BranchBatch, type SeatSampling } from './branch-batch.js';
import type { CompletionEvents, OfferedItem } from './events.js';
import { lineEndingAt, toLf, withLineEnding } from './line-endings.js';
import { allowsMultiline, type FilterContext } from './postprocess/context.js';
import { indentationScope } from './postprocess/indentation-scope.js';
import { postprocess, type Processed } from './postprocess/index.js';
import { worthShowingCut } from './confidence.js';
import { detectPromptFormat, type PromptFormat } from './prompt-format.js';
import { KEYS_KEPT } from './keys-kept.js';
import { SnippetIndex, type SnippetSource } from './snippets.js';
import { lineSplitRule, type SplitRule } from './token-cache.js';
import { healingVocab, healPrompt, stripHealed } from './token-healing.js';
import type { ClientTrace } from '../trace/client-trace.js';
import { nowMs } from '../trace/clock.js';
import type { Trace, TraceLog } from './traces.js';
import { SuggestionCache } from './suggestion-cache.js';
import { RunningGenerations, waitFor, type RunningGeneration } from './attachment.js';
import { afterAcceptance, PREFETCH_AFTER_MS } from './prefetch.js';
import { earlyPart, TimeBudget } from './time-budget.js';

/** How long a request waits for the running generation it extends. */
export const ATTACH_WAIT_MS = 1500;
/** A generation whose client cancelled its request runs on this long, for a request that extends it. */
export const ATTACH_GRACE_MS = 150;
/** Tokens of one extra draft at most (the engine's own bound). */
const MAX_DRAFT_TOKENS = 64;

/** What a generation has done so far, shared between complete() and generate() for an early answer. */
interface Progress {
  /** When the generation was asked for (trace clock). */
  started: number;
  /** When the first token arrived (trace clock), 0 before. */
  firstAt: number;
  /** Tokens generated so far. */
  tokens: number;
  /** The request's trace is still open; false after an early answer closed it. */
  traced: boolean;
  /** The request was answered before the generation ended (time-budget.ts). */
  answered: boolean;
  /** Fired at an early answer: the rest of the generation is background work (GenerateRequest.becomesBackground); null without a time budget. */
  background: AbortController | null;
}

export interface CompletionRequest {
  /** Engine session and supersession key (the document URI). */
  key: string;
  text: string;
  /** UTF-16 offset of the cursor in text. */
  offset: number;
  languageId: string;
  /** Document version the request is for; null when there is no document. */
  version: number | null;
  /** The document's version now, for the stale check; omitted when there is no document. */
  currentVersion?: () => number | undefined;
  /**
   * 'prefetch': the provider's own background request (prefetch.ts), never a client's.
   * 'alternative': a further suggestion for an invoked request (alternatives.ts): sampled with
   * `temperature` and `seed`, never answered from or kept in the suggestion cache, never attached
   * to; it neither supersedes nor registers: the alternatives of a request run under one hold of
   * the document (holdDocument, `held`).
   */
  trigger: 'invoked' | 'automatic' | 'complete' | 'prefetch' | 'alternative';
  /** Overrides completion.temperature (alternatives). */
  temperature?: number;
  seed?: number;
  /** Aborted when the client cancels. */
  signal: AbortSignal;
  /** An alternative's hold of its document (holdDocument): aborted when a newer request of the document arrives. */
  held?: AbortSignal;
  /** An invoked request's suggestion decoded together with the others of the request: its seat in their batch (branch-batch.ts). */
  batch?: { batch: BranchBatch; index: number };
  maxTokens?: number;
  /** When the server received the request (trace/clock.ts); default: when complete() is called. */
  receivedAt?: number;
  /** The client's trace fields that passed trace/client-trace.ts's checks. */
  clientTrace?: ClientTrace;
  /**
   * A shown or cached result leaves its trace open, for the caller to close with the result's
   * finishTrace once its alternatives are computed (the time to the answer then includes them).
   */
  holdTrace?: boolean;
  /**
   * Called when this request was answered early (its time budget: time-budget.ts) and the
   * generation behind the answer has since finished, the cache now answering the same text and
   * cursor with the whole suggestion (which starts with the early answer).
   */
  onWhole?: () => void;
}

export type CompletionResult =
  | {
      outcome: 'shown' | 'cached';
      item: OfferedItem;
      replaceLength: number;
      traceId: number;
      /** With holdTrace: ends the `alternatives` stage now (with its figures) and closes the trace. Call once. */
      finishTrace?: (attrs: { asked: number; offered: number }) => void;
    }
  | { outcome: Exclude<Outcome, 'shown' | 'cached'>; traceId: number };

export interface ProviderDeps {
  host: EngineHost;
  settings: () => Settings;
  log: Logger;
  traces: TraceLog;
  events: CompletionEvents;
  /** Other open documents, for snippets. */
  sources: () => Iterable<SnippetSource>;
}

interface ModelView {
  model: LoadedModel;
  format: PromptFormat;
  splitRule: SplitRule | null;
}

const FILTER_WINDOW = 4000;
/** Requests of one connection in flight at most (an editor has one per document it shows). */
export const MAX_PENDING = 8;
const OVER_CAP = `superseded: more than ${MAX_PENDING} completion requests were pending on this connection`;

export class CompletionProvider {
  private readonly inflight = new Map<string, AbortController>();
  private lastError = '';
  /** Per-document prompt caches, the KEYS_KEPT most recently used (a forgotten one is rebuilt on its next request). */
  private readonly prompts = new LRUCache<string, PromptState>({ max: KEYS_KEPT });
  private readonly views = new WeakMap<TokenizerLike, ModelView>();
  private readonly snippets = new SnippetIndex();
  readonly suggestions = new SuggestionCache();
  private readonly running = new RunningGenerations();
  /**
   * Requests answered from a generation they waited for; extra-draft tokens offered and accepted;
   * prefetched suggestions computed, answered from, and prefetches abandoned for a request.
   */
  readonly figures = { attached: 0, draftsOffered: 0, draftsAccepted: 0, prefetched: 0, prefetchUsed: 0, prefetchAbandoned: 0, earlyAnswered: 0, earlyFinished: 0 };
  readonly debouncer = new AdaptiveDebouncer();
  /** The prefetch waiting for its pause after a shown suggestion (any request cancels it). */
  private prefetchTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: ProviderDeps) {}

  /** Documents whose prompt cache is held (at most KEYS_KEPT). */
  get documentsTracked(): number {
    return this.prompts.size;
  }

  /** Forgets everything about a closed document. */
  close(key: string): void {
    clearTimeout(this.prefetchTimer);
    this.inflight.get(key)?.abort('superseded');
    this.running.get(key)?.owner.abort('superseded');
    this.inflight.delete(key);
    this.prompts.delete(key);
    this.suggestions.forget(key);
    this.debouncer.forget(key);
    this.snippets.forget(key);
    this.deps.host.closeSession(key);
  }

  /** Aborts every request in flight (server shutdown). */
  abortAll(): void {
    clearTimeout(this.prefetchTimer);
    for (const ac of this.inflight.values()) ac.abort('superseded');
    for (const g of this.running.all()) g.owner.abort('superseded');
    this.inflight.clear();
  }

  /**
   * Holds the document for the alternatives of an invoked request (alternatives.ts), as a request
   * in flight: the returned controller is aborted when a newer request of the document arrives.
   * Null when another request of the document is in flight already (a newer one goes first).
   * Give it back with releaseDocument.
   */
  holdDocument(key: string): AbortController | null {
    if (this.inflight.has(key)) return null;
    const hold = new AbortController();
    this.register(key, hold);
    return hold;
  }

  releaseDocument(key: string, hold: AbortController): void {
    if (this.inflight.get(key) === hold) this.inflight.delete(key);
  }

  /** A batch of seats decoded together (one per sampling), or null when the engine decodes one generation at a time. */
  branchBatch(samplings: SeatSampling[]): BranchBatch | null {
    return this.deps.host.decodesTogether?.() ? new BranchBatch(this.deps.host, samplings) : null;
  }

  /** Makes `ac` the document's request in flight, superseding the oldest request over MAX_PENDING. */
  private register(key: string, ac: AbortController): void {
    this.inflight.delete(key);
    if (this.inflight.size >= MAX_PENDING) {
      const [oldest, old] = this.inflight.entries().next().value!;
      old.abort(OVER_CAP);
      this.inflight.delete(oldest);
    }
    this.inflight.set(key, ac);
  }

  async complete(req: CompletionRequest): Promise<CompletionResult> {
    const { traces } = this.deps;
    const trace = traces.start(req.key, req.version, req.trigger, { receivedAt: req.receivedAt, client: req.clientTrace });
    const settings = this.deps.settings();
    const mine = new AbortController();
    const cacheOn = settings.cache.enabled;
    const background = req.trigger === 'prefetch';
    const alternative = req.trigger === 'alternative';
    // what earlier keystrokes left (a running generation, remembered suggestions): not for an alternative
    const reuse = cacheOn && !alternative;
    if (!background && !alternative) clearTimeout(this.prefetchTimer);
    // a request that types what the running generation produces waits for it; others supersede it
    // (an alternative runs under its request's hold of the document instead: holdDocument)
    const attachTo = reuse ? this.running.extendedBy(req.key, req.text, req.offset) : undefined;
    if (!alternative) {
      const prev = this.inflight.get(req.key);
      if (prev && prev !== attachTo?.owner) prev.abort('superseded');
      if (attachTo) attachTo.attached++;
      else this.running.get(req.key)?.owner.abort('superseded');
      this.register(req.key, mine);
    }
    const signal = AbortSignal.any([mine.signal, req.signal, ...(req.held ? [req.held] : [])]);
    trace.stage('receive');
    try {
      if (!settings.completion.enabled) return this.done(trace, 'disabled');
      // the typing speed comes from the client's own requests
      if (!background && !alternative) this.debouncer.noteRequest(req.key, performance.now());

      const fctx: FilterContext = {
        prefix: toLf(wellFormed(req.text.slice(Math.max(0, req.offset - FILTER_WINDOW), req.offset))),
        suffix: toLf(wellFormed(req.text.slice(req.offset, req.offset + FILTER_WINDOW))),
        policy: settings.completion.multiline,
      };
      const budgetMs = req.trigger === 'automatic' ? settings.completion.timeBudgetMs : 0;
      if (attachTo) {
        // with a time budget, what the generation has beyond the typed text once the budget ends
        const early = budgetMs > 0 ? watchBeyondTyped(attachTo, req, trace.record.startedAt + budgetMs) : null;
        const waited = await Promise.race([waitFor(attachTo, ATTACH_WAIT_MS, signal), ...(early ? [early.reached] : [])]).finally(() => {
          early?.stop();
          attachTo.attached--;
        });
        if (signal.aborted) throw abortError(signal);
        if (typeof waited === 'object') return this.answerAttachedEarly(trace, req, waited, attachTo.done);
        if (!waited) attachTo.owner.abort('superseded'); // too slow: start over
      }
      const found = reuse ? this.suggestions.lookup(req.key, req.text, req.offset) : undefined;
      // a suggestion cut short serves typing, not an explicit request (which gets the whole one)
      const cached = found && !(found.entry.cut && req.trigger === 'invoked') ? found : undefined;
      const hit = cached ? (attachTo ? 'attached' : cached.entry.prefetched ? 'prefetched' : 'typing') : cacheOn ? 'none' : 'off';
      trace.stage('cache', { hit });
      trace.record.cacheHit = hit;
      if (cached) {
        if (attachTo) this.figures.attached++;
        if (cached.entry.prefetched && !background) {
          this.figures.prefetchUsed++;
          cached.entry.prefetched = false; // shown now
        }
        return this.offer(trace, req, 'cached', cached.text, cached.replaceLength, cached.entry.cut);
      }

      const delay = req.trigger === 'automatic' ? this.debouncer.delay(settings.completion.debounceMs) : 0;
      if (req.trigger === 'automatic') await wait(delay, signal);
      trace.stage('debounce', { delayMs: delay });

      const view = await this.view(signal);
      trace.stage('load');
      const state = this.promptState(req.key, view);
      const prompt = buildPrompt(
        {
          text: req.text,
          offset: req.offset,
          languageId: req.languageId,
          snippets: settings.completion.snippets ? (before) => this.snippets.pick(req.key, req.languageId, before, this.deps.sources()) : undefined,
        },
        view.model.tokenizer,
        view.format,
        {
          contextTokens: settings.completion.contextTokens,
          suffixShare: settings.completion.suffixShare,
          maxTokens: req.maxTokens ?? settings.completion.maxTokens,
          maxContext: view.model.maxContext,
          psmTypedLines: settings.completion.psmTypedLines,
        },
        state,
      );
      trace.stage('context', {
        prefixTokens: prompt.prefixTokens,
        suffixTokens: prompt.suffixTokens,
        snippetTokens: prompt.snippetTokens,
        ...(prompt.typedTokens > 0 ? { typedTokens: prompt.typedTokens } : {}),
      });
      trace.split('tokenize', prompt.tokenizeMs);
      // token healing (token-healing.ts), where the host constrains decoding
      const tb = settings.completion.tokenHealing ? view.model.tokenBytes : undefined;
      const { ids, healing } = tb ? healPrompt(prompt, view.format, healingVocab(tb)) : { ids: prompt.ids, healing: null };
      if (healing) trace.record.healed = { tokens: healing.tokens, bytes: healing.bytes };
      trace.record.promptTokens = ids.length;

      const multiline = allowsMultiline(fctx);
      if (this.deps.log.enabled('debug')) this.deps.log.debug(`trace ${trace.record.id}: generating for ${req.key} from ${prompt.ids.length} prompt tokens`);
      const drafts = reuse && (this.deps.host.takesExtraDrafts?.() ?? true) ? this.drafts(req, view.model.tokenizer, healing?.text ?? '') : [];
      // the client's cancel ends the generation after a grace, unless a request attached to it
      const engine = new AbortController();
      let grace: NodeJS.Timeout | undefined;
      const cancelled = (): void => {
        const end = (): void => void (gen.attached === 0 && engine.abort(req.signal.reason));
        if (cacheOn) grace = setTimeout(end, ATTACH_GRACE_MS);
        else end();
      };
      const engineSignal = AbortSignal.any([mine.signal, engine.signal, ...(req.held ? [req.held] : [])]);
      // (an alternative is not registered: nothing attaches to a sampled generation)
      const { gen, end } = alternative
        ? { gen: { attached: 0, partial: '', watchers: new Set<(partial: string) => void>() }, end: () => {} }
        : this.running.start(req.key, req.text, req.offset, mine, (t) => postprocess(t, fctx));
      if (req.signal.aborted) cancelled();
      else req.signal.addEventListener('abort', cancelled, { once: true });
      // an automatic suggestion still generating when its time budget ends shows what it has (time-budget.ts)
      const budget = budgetMs > 0 ? new TimeBudget(trace.record.startedAt + budgetMs, (t) => worthShowingCut(earlyPart(t)) && postprocess(earlyPart(t), fctx).text !== '') : null;
      const progress: Progress = { started: 0, firstAt: 0, tokens: 0, traced: true, answered: false, background: budget ? new AbortController() : null };
      const finished = this.generate(req, view, ids, healing?.text ?? '', fctx, multiline, engineSignal, trace, drafts, progress, (t) => {
        gen.partial = t;
        for (const w of gen.watchers) w(t);
        budget?.update(t);
      })
        .then((r) => {
          // a request waiting for this generation, or typing through its early answer, takes the
          // suggestion from the cache (remembered before it wakes); after an early answer, the one
          // that follows the whole suggestion's acceptance is computed ahead
          if (gen.attached > 0 || progress.answered) {
            const whole = shownPart(r.text, fctx, r.unsure);
            this.remember(req, whole, r.unsure);
            if (progress.answered && whole.text !== '') this.schedulePrefetch(req, withLineEnding(whole.text, lineEndingAt(req.text, req.offset)), whole.replaceLength);
          }
          return r;
        })
        .finally(() => {
          req.signal.removeEventListener('abort', cancelled);
          clearTimeout(grace);
          budget?.dispose();
          end();
        });
      const first = budget ? await Promise.race([finished, budget.reached.then((text) => ({ early: text }))]) : await finished;
      if ('early' in first) {
        if (signal.aborted) {
          progress.traced = false; // the generation ends after this request's trace
          throw abortError(signal);
        }
        return this.answerEarly(trace, req, fctx, first.early, progress, finished, () => gen.attached === 0 && engine.abort('answered early; nothing uses the rest'));
      }
      const { text: raw, unsure } = first;
      const now = req.currentVersion?.();
      const moved = req.version !== null && now !== req.version;
      if (moved || signal.aborted) {
        if (moved) return this.done(trace, 'stale');
        throw abortError(signal);
      }

      const processed = shownPart(raw, fctx, unsure);
      trace.stage('postprocess', unsure ? { unsure: true } : undefined);
      this.lastError = '';
      if (processed.text === '') return this.done(trace, 'empty');
      return this.offer(trace, req, 'shown', withLineEnding(processed.text, lineEndingAt(req.text, req.offset)), processed.replaceLength, unsure);
    } catch (err) {
      if (isAbort(err) || signal.aborted) {
        if (req.signal.aborted) return this.done(trace, 'cancelled');
        return this.done(trace, 'superseded', mine.signal.reason === OVER_CAP || req.held?.reason === OVER_CAP ? OVER_CAP : undefined);
      }
      const code = errorCode(err);
      const message = `${code}: ${(err as Error)?.message ?? String(err)}`;
      // The same failure on every keystroke (no model, broken model) is logged once until it changes.
      if (message !== this.lastError) this.deps.log.error(`completion for ${req.key} failed: ${(err as Error)?.message ?? String(err)}`, code);
      this.lastError = message;
      return this.done(trace, 'error', message);
    } finally {
      if (this.inflight.get(req.key) === mine) this.inflight.delete(req.key);
    }
  }

  private async generate(
    req: CompletionRequest,
    view: ModelView,
    prompt: Int32Array,
    healed: string,
    fctx: FilterContext,
    multiline: boolean,
    signal: AbortSignal,
    trace: Trace,
    extraDrafts: Int32Array[],
    progress: Progress,
    onText: (text: string) => void,
  ): Promise<{ text: string; unsure: boolean }> {
    const settings = this.deps.settings();
    const tok = view.model.tokenizer;
    const ids: number[] = [];
    progress.started = nowMs();
    // after an early answer (time-budget.ts) the trace is closed: what the generation reports then goes nowhere
    const spans = trace.engine();
    // automatic suggestions (and those computed ahead for them) end before an unsure token (confidence.ts)
    const unsureBelow = req.trigger === 'automatic' || req.trigger === 'prefetch' ? settings.completion.minTokenProbability : 0;
    let unsure = false;
    const hostReq: GenerateRequest = {
      key: req.key,
      prompt,
      maxTokens: req.maxTokens ?? settings.completion.maxTokens,
      stopTokens: view.format.stopTokens,
      temperature: req.temperature ?? settings.completion.temperature,
      ...(req.seed !== undefined ? { seed: req.seed } : {}),
      ...(req.trigger === 'alternative' ? { plainDecoding: true } : {}),
      signal,
      reuse: settings.cache.enabled,
      kvBudgetBytes: settings.cache.kvBudgetMB * 1024 * 1024,
      ...(extraDrafts.length > 0
        ? {
            extraDrafts,
            onDrafts: (offered: number, accepted: number) => {
              this.figures.draftsOffered += offered;
              this.figures.draftsAccepted += accepted;
              if (progress.traced) trace.record.draftTokens = { offered, accepted };
            },
          }
        : {}),
      ...(healed ? { requiredPrefix: healed } : {}),
      ...(unsureBelow > 0 ? { minTokenProbability: unsureBelow } : {}),
      ...(req.trigger === 'prefetch' ? { background: true } : progress.background ? { becomesBackground: progress.background.signal } : {}),
      // known before the first token, so traces of generations stopped early carry it too
      onReuse: (n) => (trace.record.reusedTokens = n),
      onRemote: (exchange) => progress.traced && (trace.record.remote = exchange),
      ...(spans ? { spans: { queued: (at) => progress.traced && spans.queued(at), step: (s) => progress.traced && spans.step(s) } } : {}),
    };
    // an alternative decoded together with the others of its request takes its seat in their batch
    const gen = req.batch ? req.batch.batch.member(req.batch.index, hostReq) : this.deps.host.generate(hostReq);
    let text = '';
    // the host ended the generation itself (a background one, for another request): not a suggestion
    let endedByHost = false;
    // Hosts that receive text (OpenAI-compatible servers) yield it decoded, with a token count.
    let textTokens = 0;
    try {
      for (;;) {
        const r = await gen.next();
        if (r.done) {
          if (r.value) {
            if (progress.traced) trace.record.reusedTokens = r.value.reusedTokens;
            endedByHost = r.value.stoppedBy === 'aborted';
            unsure = r.value.stoppedBy === 'unsure';
          }
          break;
        }
        if (progress.firstAt === 0) progress.firstAt = nowMs();
        if (r.value instanceof Int32Array) {
          for (const id of r.value) ids.push(id);
          text = toLf(stripHealed(decodeContinuation(tok, prompt, ids), healed));
        } else {
          text = toLf(text + r.value.text);
          textTokens += r.value.tokens;
        }
        progress.tokens = ids.length + textTokens;
        onText(text);
        const nl = text.indexOf('\n');
        // Early stops: the line ended in single-line mode, or the indentation scope ended.
        if ((!multiline && nl >= 0) || (multiline && nl >= 0 && indentationScope(text, fctx) !== text)) {
          await gen.return(undefined);
          break;
        }
      }
    } finally {
      if (progress.traced) {
        trace.record.generatedTokens = ids.length + textTokens;
        traceGeneration(trace, prompt.length, progress.firstAt, nowMs(), signal.aborted || endedByHost);
      }
    }
    if (signal.aborted) throw abortError(signal);
    if (endedByHost) throw abortError(AbortSignal.abort('the engine ended the generation'));
    if (req.trigger !== 'prefetch' && !progress.answered) this.debouncer.noteLatency(nowMs() - progress.started);
    return { text, unsure };
  }

  /** cut: the text was cut short (before an unsure token, or at the time budget); the cache says so. */
  private offer(trace: Trace, req: CompletionRequest, outcome: 'shown' | 'cached', text: string, replaceLength: number, cut = false): CompletionResult {
    if (!req.holdTrace) trace.stage('respond');
    const cache = this.deps.settings().cache;
    if (req.trigger === 'prefetch') {
      // computed ahead: remembered for the request that follows the accept, shown to nobody yet
      if (outcome === 'shown') {
        this.suggestions.remember(req.key, req.text, req.offset, text, replaceLength, true, cut);
        this.figures.prefetched++;
      }
      return this.done(trace, 'prefetched');
    }
    const alternative = req.trigger === 'alternative';
    const item = this.deps.events.offer({ uri: req.key, version: req.version, offset: req.offset, text, alternative });
    if (cache.enabled && !alternative) this.suggestions.remember(req.key, req.text, req.offset, text, replaceLength, false, cut);
    const finishTrace = (attrs?: { asked: number; offered: number }): void => {
      if (attrs) trace.stage('alternatives', attrs);
      this.deps.traces.finish(trace, outcome);
      if (outcome === 'shown' && !alternative) this.schedulePrefetch(req, text, replaceLength);
    };
    if (req.holdTrace) return { outcome, item, replaceLength, traceId: trace.record.id, finishTrace };
    finishTrace();
    return { outcome, item, replaceLength, traceId: trace.record.id };
  }

  /**
   * Answers with the text generated when the time budget ended (time-budget.ts): the generation
   * goes on as background work (any other request ends it), and when it finishes its whole
   * suggestion is remembered for typing through and the one after it computed ahead (complete()
   * does both). `abortRest` ends the generation where nothing waits for it (no request attached) and
   * nothing could use it: the document moved on, or cache.enabled is off.
   */
  private answerEarly(
    trace: Trace,
    req: CompletionRequest,
    fctx: FilterContext,
    text: string,
    progress: Progress,
    finished: Promise<{ text: string; unsure: boolean }>,
    abortRest: () => void,
  ): CompletionResult {
    progress.answered = true;
    progress.background?.abort('answered');
    trace.record.generatedTokens = progress.tokens;
    traceGeneration(trace, trace.record.promptTokens ?? 0, progress.firstAt, nowMs(), false);
    progress.traced = false;
    this.debouncer.noteLatency(nowMs() - progress.started);
    const moved = req.version !== null && req.currentVersion?.() !== req.version;
    if (moved || !this.deps.settings().cache.enabled) abortRest();
    if (moved) return this.done(trace, 'stale');
    const processed = postprocess(earlyPart(text), fctx);
    trace.stage('postprocess', { timeBudget: true });
    this.lastError = '';
    const shown = withLineEnding(processed.text, lineEndingAt(req.text, req.offset));
    this.tellWhenWhole(req, shown, finished);
    // cut short: an explicit request at the same place computes the whole suggestion, not this
    return this.offer(trace, req, 'shown', shown, processed.replaceLength, true);
  }

  /**
   * Answers a request attached to a running generation (it typed the start of what it produces)
   * with what the generation has beyond the typed text when the request's time budget ended; the
   * generation goes on for the requests after it.
   */
  private answerAttachedEarly(trace: Trace, req: CompletionRequest, rest: Processed, done: Promise<void>): CompletionResult {
    trace.stage('cache', { hit: 'attached', timeBudget: true });
    trace.record.cacheHit = 'attached';
    this.figures.attached++;
    const shown = withLineEnding(rest.text, lineEndingAt(req.text, req.offset));
    this.tellWhenWhole(req, shown, done);
    return this.offer(trace, req, 'cached', shown, rest.replaceLength, true);
  }

  /**
   * Counts an early answer; once the generation behind it has ended (`done`, however it ended),
   * counts it finished and calls req.onWhole if the cache now answers the request's text and cursor with more than `shown` from
   * the whole suggestion (not a cut one): asking again there gets it.
   */
  private tellWhenWhole(req: CompletionRequest, shown: string, done: Promise<unknown>): void {
    this.figures.earlyAnswered++;
    const check = (): void => {
      const hit = this.suggestions.peek(req.key, req.text, req.offset);
      if (!hit || hit.entry.cut || hit.text.length <= shown.length || !hit.text.startsWith(shown)) return;
      this.figures.earlyFinished++;
      req.onWhole?.();
    };
    void done.then(check, check);
  }

  /** After a shown suggestion: computes the one after its acceptance ahead, PREFETCH_AFTER_MS later, when cache.prefetch is on. */
  private schedulePrefetch(req: CompletionRequest, text: string, replaceLength: number): void {
    const cache = this.deps.settings().cache;
    if (!cache.enabled || !cache.prefetch) return;
    clearTimeout(this.prefetchTimer);
    this.prefetchTimer = setTimeout(() => this.prefetch(req, text, replaceLength), PREFETCH_AFTER_MS);
    this.prefetchTimer.unref();
  }

  /**
   * After a shown suggestion and a pause with no request (PREFETCH_AFTER_MS): on an idle engine, computes the suggestion that follows its acceptance
   * (prefetch.ts) as a background request; the engine host ends it when any request arrives.
   */
  private prefetch(req: CompletionRequest, suggestion: string, replaceLength: number): void {
    if (this.inflight.size > 0 || !this.deps.host.canPrefetch?.()) return;
    const next = afterAcceptance(req.text, req.offset, suggestion, replaceLength);
    if (this.suggestions.covers(req.key, next.text, next.offset)) return;
    void this.complete({
      key: req.key,
      text: next.text,
      offset: next.offset,
      languageId: req.languageId,
      version: null,
      trigger: 'prefetch',
      signal: new AbortController().signal,
      ...(req.maxTokens !== undefined ? { maxTokens: req.maxTokens } : {}),
    }).then((r) => {
      if (r.outcome === 'superseded' || r.outcome === 'cancelled') this.figures.prefetchAbandoned++;
    });
  }

  /** Remembers a whole suggestion for requests typing through it (one attached to its generation, or after an early answer). */
  private remember(req: CompletionRequest, processed: { text: string; replaceLength: number }, cut: boolean): void {
    if (processed.text === '') return;
    this.suggestions.remember(req.key, req.text, req.offset, withLineEnding(processed.text, lineEndingAt(req.text, req.offset)), processed.replaceLength, false, cut);
  }

  /**
   * A diverged suggestion's re-aligned rests as token ids (suggestion-cache.ts drafts()), after the
   * text token healing took off the prompt (the output rewrites it first).
   */
  private drafts(req: CompletionRequest, tok: TokenizerLike, healed: string): Int32Array[] {
    return this.suggestions
      .divergedDrafts(req.key, req.text, req.offset)
      .map((d) => tok.encode(toLf(healed + d), { addSpecialTokens: false }).subarray(0, MAX_DRAFT_TOKENS))
      .filter((ids) => ids.length > 0);
  }

  private done(trace: Trace, outcome: Exclude<Outcome, 'shown' | 'cached'>, error?: string): CompletionResult {
    this.deps.traces.finish(trace, outcome, error);
    return { outcome, traceId: trace.record.id };
  }

  private async view(signal: AbortSignal): Promise<ModelView> {
    const model = await this.deps.host.ready(signal);
    let view = this.views.get(model.tokenizer);
    if (!view) {
      view = { model, format: detectPromptFormat(model.tokenizer), splitRule: lineSplitRule(model.tokenizer) };
      this.views.set(model.tokenizer, view);
      this.prompts.clear();
    }
    return view;
  }

  private promptState(key: string, view: ModelView): PromptState {
    let s = this.prompts.get(key);
    if (!s) {
      s = new PromptState(view.splitRule);
      this.prompts.set(key, s);
    }
    return s;
  }
}

/**
 * Ends the engine's stages of a trace: prefill up to the first token, decode (with the rounds the
 * host reported) up to `end`. A generation cancelled before its first token leaves its stage to
 * the trace's finish (queue or prefill, whichever was running).
 */
/** The generated text post-processed; one cut before an unsure token (confidence.ts) too short to be worth showing is none. */
function shownPart(raw: string, fctx: FilterContext, unsure: boolean): Processed {
  return unsure && !worthShowingCut(raw) ? { text: '', replaceLength: 0 } : postprocess(raw, fctx);
}

/**
 * Watches the running generation `g` for a request attached to it (it typed the start of what `g`
 * produces) whose time budget ends at `deadline`: `reached` resolves, once the budget has passed,
 * with what `g` shows beyond the typed text (post-processed at g's own cursor, as the cache serves
 * typing through its whole suggestion), when that is worth showing. stop() ends the watch.
 */
function watchBeyondTyped(g: RunningGeneration, req: CompletionRequest, deadline: number): { reached: Promise<Processed>; stop: () => void } {
  const typed = toLf(req.text.slice(g.offset, req.offset));
  const beyond = (partial: string): Processed => {
    const shown = partial.startsWith(typed) ? g.shown(earlyPart(partial, typed.length)) : null;
    return shown?.text.startsWith(typed) ? { text: shown.text.slice(typed.length), replaceLength: shown.replaceLength } : { text: '', replaceLength: 0 };
  };
  const budget = new TimeBudget(deadline, (partial) => worthShowingCut(earlyPart(partial, typed.length).slice(typed.length)) && beyond(partial).text !== '');
  const watch = (partial: string): void => budget.update(partial);
  g.watchers.add(watch);
  watch(g.partial);
  return {
    reached: budget.reached.then(beyond),
    stop: () => {
      g.watchers.delete(watch);
      budget.dispose();
    },
  };
}

function traceGeneration(trace: Trace, promptTokens: number, firstAt: number, end: number, aborted: boolean): void {
  const reused = trace.record.reusedTokens;
  const attrs: Record<string, number> = reused !== undefined ? { reusedTokens: reused, computedTokens: promptTokens - reused } : {};
  if (firstAt) {
    trace.stageAt('prefill', firstAt, attrs);
    trace.stageAt('decode', end, { tokens: trace.record.generatedTokens ?? 0 });
  } else if (!aborted) {
    trace.stageAt('prefill', end, attrs);
  }
}
