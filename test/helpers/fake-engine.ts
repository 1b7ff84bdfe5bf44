/**
 * A FAKE engine host for unit and in-process LSP tests only: a character-level tokenizer (one
 * id per UTF-16 code unit, optional FIM tokens) and scripted completions streamed one character
 * per chunk (with `together`, several samples side by side as EngineHost.generateTogether does:
 * a character of each branch per step). Tests can hold a generation after its first chunks and wait for it to start, so
 * cancellation and supersession are tested on events, never on sleeps. Reports a zero-length
 * engine step per chunk to a traced request. Never used by e2e tests.
 */
import type { Settings } from '../../server/src/config.js';
import { nowMs } from '../../server/src/trace/clock.js';
import { BackgroundGate } from '../../server/src/completion/background-gate.js';
import type { BranchChunk, BranchRequest, EngineHost, EngineHostStatus, GenerateRequest, GenerateSummary, LoadedModel, TokenizerLike } from '../../server/src/completion/engine-host.js';

const BASE = 16;
const SPECIAL = ['<s>', '</s>', '<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>', '<|endoftext|>'];

/** Fake tokenizer: id = BASE + UTF-16 code unit; special tokens are ids 0..5. */
export class FakeTokenizer implements TokenizerLike {
  readonly bosTokenId: number | null;
  readonly eosTokenIds = [1];
  constructor(
    readonly fim: boolean,
    private readonly addBos = false,
  ) {
    this.bosTokenId = addBos ? 0 : null;
  }
  encode(text: string, opts: { addSpecialTokens?: boolean } = {}): Int32Array {
    const ids: number[] = opts.addSpecialTokens !== false && this.addBos ? [0] : [];
    for (let i = 0; i < text.length; i++) ids.push(BASE + text.charCodeAt(i));
    return Int32Array.from(ids);
  }
  decode(ids: ArrayLike<number>, opts: { skipSpecialTokens?: boolean } = {}): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id >= BASE) s += String.fromCharCode(id - BASE);
      else if (!opts.skipSpecialTokens) s += SPECIAL[id] ?? '';
    }
    return s;
  }
  tokenId(token: string): number | undefined {
    const i = SPECIAL.indexOf(token);
    if (i < 0) return undefined;
    if (!this.fim && token.startsWith('<|fim')) return undefined;
    return i;
  }
}

export interface FakeCall {
  key: string;
  /** The prompt decoded with special tokens spelled out. */
  prompt: string;
  maxTokens: number;
  signal: AbortSignal;
}

export class FakeEngineHost implements EngineHost {
  readonly tokenizer: FakeTokenizer;
  /** What the fake model answers for a prompt (the text after the cursor is not seen unless FIM), and the request (sampling). */
  respond: (prompt: string, req: GenerateRequest) => string = () => 'completion()';
  readonly calls: FakeCall[] = [];
  /** Every GenerateRequest as received (for what the cache passes: reuse, extraDrafts). */
  readonly requests: GenerateRequest[] = [];
  readonly configured: Settings['engine'][] = [];
  readonly closed: string[] = [];
  /** When set, ready() rejects with this error. */
  failLoad: (Error & { code?: string }) | null = null;
  /** When set, every generation throws this error after its first chunk (a failing engine step). */
  failStep: (Error & { code?: string }) | null = null;
  /** Whether canPrefetch() may say yes (prefetch tests); elsewhere the server does no background work. */
  prefetches = false;
  /** Whether decodesTogether() says yes: alternatives then come as one generateTogether call. */
  together = false;
  /** The branch count of each generateTogether call (each branch is also in `requests`, as a request of its own). */
  readonly togetherCalls: number[] = [];
  private readonly background = new BackgroundGate();
  private gate: Promise<void> | null = null;
  private gateAfter = 1;
  private startWaiters: ((call: FakeCall) => void)[] = [];
  private endWaiters: (() => void)[] = [];

  constructor(opts: { fim?: boolean; maxContext?: number } = {}) {
    this.tokenizer = new FakeTokenizer(opts.fim ?? true);
    this.maxContext = opts.maxContext ?? 4096;
  }
  private readonly maxContext: number;

  /** Blocks every generation after its first `afterChunks` chunks until the returned function is called. */
  hold(afterChunks = 1): () => void {
    let release!: () => void;
    this.gateAfter = afterChunks;
    this.gate = new Promise<void>((r) => (release = r));
    return () => {
      this.gate = null;
      release();
    };
  }

  /** Resolves when the next generation starts. */
  nextStart(): Promise<FakeCall> {
    return new Promise((r) => this.startWaiters.push(r));
  }

  /** Resolves when the next generation to end has ended (however it ended). */
  nextEnd(): Promise<void> {
    return new Promise((r) => this.endWaiters.push(r));
  }

  configure(engine: Settings['engine']): void {
    this.configured.push({ ...engine });
  }

  async ready(): Promise<LoadedModel> {
    if (this.failLoad) throw this.failLoad;
    return { dir: '/fake/model', tokenizer: this.tokenizer, maxContext: this.maxContext, architecture: 'fake', vocabSize: 65552, numLayers: 1, hiddenSize: 1 };
  }

  canPrefetch(): boolean {
    return this.prefetches && this.background.idle;
  }

  async *generate(req: GenerateRequest): AsyncGenerator<Int32Array, GenerateSummary | undefined, void> {
    const { signal, leave } = this.background.enter(req);
    try {
      return yield* this.run({ ...req, signal });
    } finally {
      leave();
      this.ended();
    }
  }

  decodesTogether(): boolean {
    return this.together;
  }

  /** Each branch answers respond() for its temperature and seed; one character of every live branch per step. */
  async *generateTogether(req: GenerateRequest, branches: BranchRequest[]): AsyncGenerator<BranchChunk, void, void> {
    const { signal, leave } = this.background.enter(req);
    try {
      const asked = branches.map((b) => ({ ...req, temperature: b.temperature, seed: b.seed, signal: b.signal }));
      const call = await this.started(req, () => {
        this.togetherCalls.push(branches.length);
        this.requests.push(...asked);
      });
      const texts = asked.map((one) => this.tokenizer.encode(this.respond(call.prompt, one), { addSpecialTokens: false }));
      const summary = (stoppedBy: GenerateSummary['stoppedBy']): GenerateSummary => ({ stoppedBy, promptTokens: req.prompt.length, reusedTokens: 0, prefillMs: 0, decodeMs: 0 });
      const live = new Set(branches.keys());
      for (let i = 0; live.size > 0 && !signal.aborted; i++) {
        const ids: number[] = [];
        const of: number[] = [];
        const ended: BranchChunk['ended'] = [];
        for (const b of [...live]) {
          const text = texts[b]!;
          const n = Math.min(text.length, req.maxTokens);
          if (branches[b]!.signal.aborted) {
            live.delete(b);
            ended.push({ branch: b, summary: summary('aborted') });
            continue;
          }
          if (i < n) {
            ids.push(text[i]!);
            of.push(b);
          }
          if (i + 1 >= n) {
            live.delete(b);
            ended.push({ branch: b, summary: summary(n < text.length ? 'max_tokens' : 'eos') });
          }
        }
        const at = nowMs();
        req.spans?.step({ kind: i === 0 ? 'prefill' : 'ar', start: at, end: at, tokens: ids.length });
        yield { ids: Int32Array.from(ids), branches: Int32Array.from(of), ended };
        if (this.failStep) throw this.failStep;
        const gate = this.gate;
        if (gate && i + 1 >= this.gateAfter) await abortable(gate, signal);
      }
    } finally {
      leave();
      this.ended();
    }
  }

  /** A generation started: recorded (`record` adds to `requests`), start waiters told, queue span reported. */
  private async started(req: GenerateRequest, record: () => void): Promise<FakeCall> {
    await this.ready();
    const call: FakeCall = { key: req.key, prompt: this.tokenizer.decode(req.prompt), maxTokens: req.maxTokens, signal: req.signal };
    this.calls.push(call);
    record();
    const waiters = this.startWaiters;
    this.startWaiters = [];
    for (const w of waiters) w(call);
    req.spans?.queued(nowMs());
    return call;
  }

  private ended(): void {
    const waiters = this.endWaiters;
    this.endWaiters = [];
    for (const w of waiters) w();
  }

  private async *run(req: GenerateRequest): AsyncGenerator<Int32Array, GenerateSummary | undefined, void> {
    const call = await this.started(req, () => this.requests.push(req));
    const text = this.respond(call.prompt, req);
    const ids = this.tokenizer.encode(text, { addSpecialTokens: false });
    const n = Math.min(ids.length, req.maxTokens);
    for (let i = 0; i < n; i++) {
      if (req.signal.aborted) return { stoppedBy: 'aborted', promptTokens: req.prompt.length, reusedTokens: 0, prefillMs: 0, decodeMs: 0 };
      const at = nowMs();
      // a step as an engine reports it: the prefill, then rounds with the fake's own figures
      req.spans?.step({ kind: i === 0 ? 'prefill' : 'ar', start: at, end: at, tokens: 1, stats: i === 0 ? { reusedTokens: 0, promptTokens: req.prompt.length } : { treeSize: 1, accepted: 0 } });
      yield ids.subarray(i, i + 1);
      if (this.failStep) throw this.failStep;
      const gate = this.gate;
      if (gate && i + 1 >= this.gateAfter) await abortable(gate, req.signal);
    }
    return { stoppedBy: n < ids.length ? 'max_tokens' : 'eos', promptTokens: req.prompt.length, reusedTokens: 0, prefillMs: 0, decodeMs: 0 };
  }

  closeSession(key: string): void {
    this.closed.push(key);
  }

  status(): EngineHostStatus {
    return {
      state: this.failLoad ? 'error' : 'ready',
      model: null,
      drafterDir: null,
      backend: 'fake',
      mode: 'ar',
      backends: [{ name: 'fake', available: true }],
      error: this.failLoad ? { message: this.failLoad.message, code: this.failLoad.code ?? 'FAKE' } : null,
      sessions: 0,
    };
  }

  async dispose(): Promise<void> {}
}

function abortable(p: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    void p.then(done);
  });
}
