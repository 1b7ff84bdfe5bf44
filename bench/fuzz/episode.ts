/**
 * One fuzz episode: a fresh TCP connection to `slipstream serve`, driven through a seeded mix of
 * recorded traffic, generated didChange sequences, mutated params and settings objects, broken
 * frames and envelopes, cancellations and lifecycle orders. It predicts what the server must do
 * (reference-document.ts for the documents, the LSP lifecycle for error codes) and records every
 * failure: -32603 or a handler that threw (logged), a request never answered (hang), a reply to a
 * notification, a second reply, a document that differs from the reference (read back with
 * slipstream/debug/document).
 */
import type { Socket } from 'node:net';
import { RpcClient, type RpcMessage } from '../lib/rpc-client.js';
import { checkReplies, judgeAnswer, type Expect, type Failure } from './oracle.js';
import type { Corpus, RecordedMessage } from './corpus.js';
import { int, interestingValue, mutate, mutateSettings, pick, serialize, type Rng } from './mutate.js';
import { didChangeParams, randomPos } from './edits.js';
import { acceptedChange, acceptedClose, acceptedOpen, depthOf, ReferenceDocument } from './reference-document.js';
import { encodeFrame, LOSSLESS, type Framing } from './wire.js';

export const INPUT_CLASSES = [
  'recorded traffic',
  'didChange sequences',
  'settings objects',
  'params mutations',
  'completion requests',
  'cancellation',
  'lifecycle order',
  'frames: split or re-spelled',
  'frames: broken length',
  'frames: garbage',
  'envelopes',
] as const;
export type InputClass = (typeof INPUT_CLASSES)[number];


export type { Failure } from './oracle.js';

export interface EpisodeResult {
  inputs: Record<InputClass, number>;
  failures: Failure[];
  /** Every byte sent, in order, to replay a failure. */
  sent: Buffer[];
}


interface Pending {
  method: string;
  expect: Expect;
  answer: Promise<RpcMessage>;
}

export class Episode {
  private readonly inputs = Object.fromEntries(INPUT_CLASSES.map((c) => [c, 0])) as Record<InputClass, number>;
  private readonly failures: Failure[] = [];
  private readonly sent: Buffer[] = [];
  private readonly docs = new Map<string, ReferenceDocument>();
  private readonly pending = new Map<number, Pending>();
  private phase: 'new' | 'running' | 'shutdown' | 'exited' = 'new';
  private nextId = 1;
  /** Every frame so far was well-formed JSON-RPC, so no reply with id null may come. */
  private clean = true;
  private utf16 = true;
  private client!: RpcClient;
  private socket!: Socket;
  private readonly settingsAnswer: { value: unknown } = { value: null };

  constructor(
    private readonly rng: Rng,
    private readonly corpus: Corpus,
    private readonly name: string,
    private readonly hangMs: number,
  ) {}

  async run(connect: () => Promise<Socket>): Promise<EpisodeResult> {
    this.socket = await connect();
    this.client = new RpcClient(this.socket, this.socket, (method, params) =>
      method === 'workspace/configuration' ? ((params?.items ?? []) as unknown[]).map(() => this.settingsAnswer.value) : null,
    );
    try {
      await this.body();
    } finally {
      this.failures.push(...checkReplies(this.name, this.client.received, this.nextId, this.clean));
      this.socket.destroy();
    }
    return { inputs: this.inputs, failures: this.failures, sent: this.sent };
  }

  private async body(): Promise<void> {
    const rng = this.rng;
    if (rng() < 0.1) this.beforeInitialize();
    await this.initialize();
    if (this.phase !== 'running') return;
    this.notify('initialized', {}, 'exact');
    for (let k = 0, n = int(rng, 1, 3); k < n; k++) this.openDocument(k);
    for (let step = 0, steps = int(rng, 15, 50); step < steps && this.phase === 'running'; step++) {
      const r = rng();
      if (r < 0.3) this.edit();
      else if (r < 0.48) this.replay();
      else if (r < 0.62) this.completion();
      else if (r < 0.72) this.mutatedParams();
      else if (r < 0.77) this.settings();
      else if (r < 0.82) this.cancellation();
      else if (r < 0.93) this.brokenFrame();
      else if (r < 0.97) this.envelope();
      else await this.lifecycle();
      if (rng() < 0.3) this.checkDocument();
      if (rng() < 0.15) await this.sync();
    }
    if (this.phase === 'running') {
      for (const uri of this.docs.keys()) this.checkDocument(uri);
      this.request('slipstream/status', null, { kind: 'result' });
    }
    await this.sync();
    if (this.phase === 'running' && rng() < 0.7) {
      this.request('shutdown', null, { kind: 'result' });
      await this.sync();
      this.notify('exit', null, 'exact');
      await Promise.race([this.client.closed, new Promise((r) => setTimeout(r, this.hangMs).unref())]);
    }
  }

  // ---- sending

  private write(chunks: Buffer[]): void {
    for (const c of chunks) {
      this.sent.push(c);
      if (!this.socket.destroyed) this.socket.write(c);
    }
  }

  private framing(): Framing {
    return this.rng() < 0.15 ? pick(this.rng, ['split', 'header-variant'] as const) : 'exact';
  }

  private notify(method: string, params: unknown, framing: Framing = this.framing()): void {
    const body = serialize(params === undefined ? { jsonrpc: '2.0', method } : { jsonrpc: '2.0', method, params });
    this.write(encodeFrame(body, framing, this.rng));
  }

  /** Sends a request; unless its frame is broken, an answer must come and match `expect`. */
  private request(method: string, params: unknown, expect: Expect, framing: Framing = this.framing()): number {
    const id = this.nextId++;
    if (this.phase === 'new' && method !== 'initialize') expect = { kind: 'error', code: -32002 };
    else if (this.phase === 'shutdown') expect = { kind: 'error', code: -32600 };
    const answer = this.client.waitFor((m) => m.id === id && m.method === undefined);
    const body = serialize(params === null ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params });
    // after exit the connection closes: nothing is owed
    if (LOSSLESS.has(framing) && this.phase !== 'exited') this.pending.set(id, { method, expect, answer });
    this.write(encodeFrame(body, framing, this.rng));
    return id;
  }

  /** Waits for every answer owed; an answer that does not come within hangMs is a hang. */
  private async sync(): Promise<void> {
    const owed = [...this.pending.entries()];
    this.pending.clear();
    await Promise.all(
      owed.map(async ([id, p]) => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<null>((r) => (timer = setTimeout(() => r(null), this.hangMs)));
        const m = await Promise.race([p.answer, timeout]);
        clearTimeout(timer);
        if (m === null) return this.fail('hang', `${this.name}: no answer to ${p.method} (id ${id}) within ${this.hangMs} ms`);
        const failure = judgeAnswer(this.name, id, p.method, p.expect, m);
        if (failure) this.failures.push(failure);
      }),
    );
  }

  private fail(kind: Failure['kind'], detail: string): void {
    this.failures.push({ kind, detail });
  }

  // ---- lifecycle

  private beforeInitialize(): void {
    this.inputs['lifecycle order']++;
    this.request('slipstream/status', null, { kind: 'error', code: -32002 });
    this.notify('textDocument/didOpen', { textDocument: { uri: 'file:///fuzz/early.ts', languageId: 'typescript', version: 1, text: 'x' } });
  }

  private async initialize(): Promise<void> {
    let params: unknown = { ...structuredClone(pick(this.rng, this.corpus.initialize)), processId: null };
    let expect: Expect = { kind: 'result' };
    const r = this.rng();
    if (r < 0.35) {
      this.inputs['settings objects']++;
      (params as Record<string, unknown>).initializationOptions = mutateSettings(pick(this.rng, this.corpus.settings), this.rng);
    } else if (r < 0.45) {
      this.inputs['params mutations']++;
      params = mutate(params, this.rng).value;
      expect = { kind: 'any' };
    }
    if (depthOf(JSON.parse(serialize(params))) > 64) expect = { kind: 'error', code: -32602 };
    const id = this.nextId;
    this.request('initialize', params, expect, 'exact');
    const reply = await this.client.waitFor((m) => m.id === id && m.method === undefined);
    await this.sync();
    if (reply.result) {
      this.phase = 'running';
      const enc = (reply.result as { capabilities?: { positionEncoding?: string } }).capabilities?.positionEncoding;
      this.utf16 = enc === undefined || enc === 'utf-16';
    }
  }

  private async lifecycle(): Promise<void> {
    this.inputs['lifecycle order']++;
    if (this.rng() < 0.4) {
      this.request('initialize', { processId: null, rootUri: null, capabilities: {} }, { kind: 'error', code: -32600 });
      return;
    }
    this.request('shutdown', null, { kind: 'result' });
    this.phase = 'shutdown';
    this.request('slipstream/status', null, { kind: 'error', code: -32600 });
    this.edit(); // dropped after shutdown: the reference does not change
    const uri = this.docs.keys().next().value;
    if (uri !== undefined) this.checkDocument(uri);
    await this.sync();
    if (this.rng() < 0.5) {
      this.notify('exit', null, 'exact');
      this.phase = 'exited';
    }
  }

  // ---- documents

  private openDocument(k: number): void {
    const base = pick(this.rng, this.corpus.documents);
    const uri = `file:///fuzz/${this.name}/d${k}.ts`;
    const variants = [base.text, base.text.replace(/\n/g, '\r\n'), `// 😀 中文 é\n${base.text}`, '', base.text.replace(/\n/g, '\r')];
    const text = pick(this.rng, variants);
    const params = { textDocument: { uri, languageId: base.languageId, version: int(this.rng, 0, 3), text } };
    this.notify('textDocument/didOpen', params);
    this.docs.set(uri, new ReferenceDocument(text, params.textDocument.version));
  }

  /** Mirrors a document notification the server handles, from the params as the server parses them. */
  private track(method: string, params: unknown): void {
    if (this.phase !== 'running') return;
    const seen = JSON.parse(serialize(params)) as unknown;
    if (method === 'textDocument/didOpen') {
      const o = acceptedOpen(seen);
      if (o) this.docs.set(o.uri, new ReferenceDocument(o.text, o.version));
    } else if (method === 'textDocument/didClose') {
      const uri = acceptedClose(seen);
      if (uri !== null) this.docs.delete(uri);
    } else if (method === 'textDocument/didChange') {
      const c = acceptedChange(seen);
      const doc = c ? this.docs.get(c.uri) : undefined;
      if (c && doc && c.version > doc.version) doc.apply(c.changes, c.version);
    }
  }

  private sendDocumentNotification(method: string, params: unknown): void {
    this.notify(method, params);
    this.track(method, params);
  }

  private randomDoc(): [string, ReferenceDocument] | undefined {
    const entries = [...this.docs.entries()];
    return entries.length > 0 ? pick(this.rng, entries) : undefined;
  }

  private edit(): void {
    this.inputs['didChange sequences']++;
    const [uri, doc] = this.randomDoc() ?? ['file:///fuzz/none.ts', new ReferenceDocument('', 0)];
    this.sendDocumentNotification('textDocument/didChange', didChangeParams(this.rng, uri, doc));
  }

  private checkDocument(uri?: string): void {
    if (!this.utf16 || this.phase === 'new' || this.phase === 'exited') return;
    const target = uri ?? this.randomDoc()?.[0];
    if (target === undefined) return;
    const doc = this.docs.get(target);
    const expected = doc ? { uri: target, version: doc.version, text: doc.text } : null;
    this.request('slipstream/debug/document', { uri: target }, { kind: 'document', uri: target, expected }, 'exact');
  }

  // ---- requests

  private inlineParams(uri: string, doc: ReferenceDocument | undefined): Record<string, unknown> {
    return {
      textDocument: { uri, ...(this.rng() < 0.8 && doc ? { version: this.rng() < 0.9 ? doc.version : doc.version - 1 } : {}) },
      position: doc ? randomPos(this.rng, doc) : { line: 0, character: 0 },
      context: { triggerKind: this.rng() < 0.5 ? 1 : 2 },
      ...(this.rng() < 0.5 ? { formattingOptions: { tabSize: 2, insertSpaces: true } } : {}),
    };
  }

  private completion(): void {
    this.inputs['completion requests']++;
    const rng = this.rng;
    const entry = this.randomDoc();
    if (rng() < 0.6) {
      const [uri, doc] = entry ?? ['file:///fuzz/none.ts', undefined];
      this.request('textDocument/inlineCompletion', this.inlineParams(rng() < 0.95 ? uri : 'file:///fuzz/not-open.ts', doc), { kind: 'any' });
      return;
    }
    const text = entry ? entry[1].text.slice(0, 5000) : 'hello';
    const valid = rng() < 0.85;
    const offset = valid ? int(rng, 0, text.length) : pick(rng, [text.length + 1, -1, 0.5]);
    const maxTokens = rng() < 0.9 ? int(rng, 1, 12) : pick(rng, [0, 2000]);
    // sometimes alternatives: mostly 1..5, else out of range or not an integer
    const alternatives = rng() < 0.3 ? (rng() < 0.9 ? int(rng, 1, 5) : pick(rng, [0, 6, 2.5])) : undefined;
    const alternativesValid = alternatives === undefined || (Number.isInteger(alternatives) && alternatives >= 1 && alternatives <= 5);
    this.request(
      'slipstream/complete',
      { text, offset, maxTokens, ...(alternatives !== undefined ? { alternatives } : {}), ...(rng() < 0.5 ? { uri: `file:///fuzz/${this.name}/c.ts` } : {}) },
      valid && maxTokens >= 1 && maxTokens <= 1024 && alternativesValid ? { kind: 'result' } : { kind: 'error', code: -32602 },
    );
  }

  /** A window of recorded messages, aimed at a document of this episode. */
  private replay(): void {
    this.inputs['recorded traffic']++;
    const rng = this.rng;
    const all = this.corpus.all.filter((m) => m.method === 'textDocument/didChange' || m.method === 'textDocument/inlineCompletion' || m.method === 'slipstream/status' || m.method === 'slipstream/traces');
    const start = int(rng, 0, all.length - 1);
    for (const m of all.slice(start, start + int(rng, 1, 8))) {
      const entry = this.randomDoc();
      if (!entry) return;
      const [uri, doc] = entry;
      const p = structuredClone(m.params) as Record<string, any> | undefined;
      if (m.method === 'textDocument/didChange') {
        this.sendDocumentNotification('textDocument/didChange', { ...p, textDocument: { uri, version: doc.version + 1 } });
      } else if (m.method === 'textDocument/inlineCompletion') {
        this.request(m.method, { ...p, textDocument: { uri, version: doc.version } }, { kind: 'any' });
      } else {
        this.request(m.method!, p ?? null, { kind: 'result' });
      }
    }
  }

  /** A recorded or generated message with one mutation in its params. */
  private mutatedParams(): void {
    this.inputs['params mutations']++;
    const rng = this.rng;
    const entry = this.randomDoc();
    const uri = entry?.[0] ?? 'file:///fuzz/none.ts';
    const bases: RecordedMessage[] = [
      ...this.corpus.requests.filter((m) => m.method !== 'initialize'),
      { jsonrpc: '2.0', method: 'textDocument/didChange', params: { textDocument: { uri, version: (entry?.[1].version ?? 0) + 1 }, contentChanges: pick(rng, this.corpus.changes) } },
      { jsonrpc: '2.0', method: 'textDocument/didOpen', params: { textDocument: { uri: `${uri}.m`, languageId: 'ts', version: 1, text: 'm' } } },
      { jsonrpc: '2.0', method: 'textDocument/didClose', params: { textDocument: { uri: `${uri}.m` } } },
      { jsonrpc: '2.0', id: 0, method: 'workspace/executeCommand', params: { command: 'slipstream.didAcceptCompletionItem', arguments: ['x'] } },
      { jsonrpc: '2.0', method: 'textDocument/didShowCompletion', params: { item: { insertText: 'a', command: { title: 't', command: 'c', arguments: ['x'] } } } },
      { jsonrpc: '2.0', method: 'textDocument/didPartiallyAcceptCompletion', params: { item: { insertText: 'a' }, acceptedLength: 1 } },
      { jsonrpc: '2.0', id: 0, method: 'slipstream/traces', params: { after: 0, limit: 5 } },
      { jsonrpc: '2.0', method: '$/setTrace', params: { value: 'off' } },
    ];
    const base = pick(rng, bases);
    let params = structuredClone(base.params);
    if (base.method === 'textDocument/inlineCompletion') params = { ...(params as object), textDocument: { uri } };
    const { value } = mutate(params, rng);
    if (base.id !== undefined) this.request(base.method!, value, { kind: 'any' });
    else this.sendDocumentNotification(base.method!, value);
  }

  private settings(): void {
    this.inputs['settings objects']++;
    const mutated = mutateSettings(pick(this.rng, this.corpus.settings), this.rng);
    if (this.rng() < 0.5) {
      this.notify('workspace/didChangeConfiguration', { settings: { slipstream: mutated } });
    } else {
      // pushed without settings: the server pulls workspace/configuration and gets these
      this.settingsAnswer.value = mutated;
      this.notify('workspace/didChangeConfiguration', { settings: null });
    }
    this.request('slipstream/status', null, { kind: 'result' });
  }

  private cancellation(): void {
    this.inputs['cancellation']++;
    const rng = this.rng;
    const entry = this.randomDoc();
    if (entry && rng() < 0.6) {
      const id = this.request('textDocument/inlineCompletion', this.inlineParams(entry[0], entry[1]), { kind: 'any' });
      this.notify('$/cancelRequest', { id });
    } else {
      this.notify('$/cancelRequest', pick(rng, [null, {}, { id: 'never-sent' }, { id: 987654 }, { id: interestingValue(rng) }]));
    }
  }

  private brokenFrame(): void {
    const framing = pick(this.rng, ['split', 'header-variant', 'lying-long', 'lying-short', 'huge-length', 'garbage-before'] as const);
    this.inputs[framing === 'split' || framing === 'header-variant' ? 'frames: split or re-spelled' : framing === 'garbage-before' ? 'frames: garbage' : 'frames: broken length']++;
    if (!LOSSLESS.has(framing)) this.clean = false;
    const entry = this.randomDoc();
    if (entry && this.rng() < 0.5) this.request('textDocument/inlineCompletion', this.inlineParams(entry[0], entry[1]), { kind: 'any' }, framing);
    else this.request('slipstream/status', null, { kind: 'result' }, framing);
  }

  private envelope(): void {
    this.inputs['envelopes']++;
    this.clean = false;
    const id = this.nextId++;
    const body = pick(this.rng, [
      '[1,2]',
      '[]',
      `{"jsonrpc":"1.0","id":${id},"method":"slipstream/status"}`,
      `{"jsonrpc":"2.0","id":{"x":${id}},"method":"slipstream/status"}`,
      `{"jsonrpc":"2.0","id":${id},"method":5}`,
      `{"jsonrpc":"2.0","id":${id}.5,"method":"slipstream/status"}`,
      `{"jsonrpc":"2.0","id":${id},"method":"slipstream/status","params":"x"}`,
      '"just a string"',
      'null',
      `{"jsonrpc":"2.0","id":${id},"result":{"unasked":true}}`,
    ]);
    this.write(encodeFrame(body, 'exact', this.rng));
  }
}
