/**
 * The completion APIs a remote host speaks, as data: where to POST, the request body for a
 * locally built prompt, and what one server-sent event says. `openai` is POST /v1/completions
 * (vLLM, SGLang, TensorRT-LLM's trtllm-serve, llama-server): text comes back, the prompt goes as
 * token ids or text. `llama-server` is llama.cpp's own POST /completion: the prompt goes as token
 * ids, the generated token ids come back (return_tokens), and cache_prompt keeps the slot's KV for
 * the next keystroke. Asked for them (ApiRequest.logprobs), both report the generated tokens'
 * log-probabilities; probability fields a server sends malformed or misaligned are ignored (the
 * suggestion is then not cut, as with a server that sends none) rather than failing a suggestion
 * whose tokens are fine. No I/O here (event-stream.ts does it).
 */
import type { RemoteApi } from '../../config.js';
import { RemoteError } from './event-stream.js';

export interface ApiRequest {
  /** The prompt as token ids, or as text with the special tokens spelled out. */
  prompt: number[] | string;
  maxTokens: number;
  temperature: number;
  /** The sampler's seed, when the request gives one (both APIs take `seed`). */
  seed?: number;
  /** Spellings of the stop tokens, for APIs that stop on text. */
  stopText: string[];
  /** The `model` field ('' = leave it out: the server's default model). */
  model: string;
  /** Ask for each generated token's log-probability (completion.minTokenProbability); it costs the server work. */
  logprobs?: boolean;
}

/** What one event of the stream says; every field is optional. */
export interface ApiEvent {
  /** Generated token ids. */
  ids?: number[];
  /** Generated text (APIs that return no ids). */
  text?: string;
  /**
   * The natural log of each generated token's probability (the model's softmax at temperature 1),
   * one per id of `ids`, or per token of the text in `pieces`; absent when the server sent none.
   */
  logprobs?: number[];
  /**
   * Text mode: the text of each token `logprobs` covers, in order, making up `text` exactly;
   * absent when the server does not say or its pieces do not make up the text.
   */
  pieces?: string[];
  /** Why generation ended, when this event ends it. */
  end?: 'eos' | 'max_tokens';
  /** The stream is complete (nothing more follows). */
  finished?: boolean;
  promptTokens?: number;
  completionTokens?: number;
  cachedTokens?: number;
}

export interface ApiSpec {
  path: string;
  body(req: ApiRequest): Record<string, unknown>;
  /** Interprets one event's data; throws RemoteError for an error event or malformed data. */
  parse(data: string): ApiEvent;
}

type Json = Record<string, unknown>;

function parseJson(data: string): Json {
  let j: unknown;
  try {
    j = JSON.parse(data);
  } catch {
    throw new RemoteError(`malformed event in the stream (not JSON): ${data.slice(0, 120)}`, 'ENGINE_REMOTE_BAD_STREAM');
  }
  if (j === null || typeof j !== 'object' || Array.isArray(j)) throw new RemoteError(`malformed event in the stream: ${data.slice(0, 120)}`, 'ENGINE_REMOTE_BAD_STREAM');
  const err = (j as Json).error;
  if (err !== undefined && err !== null) {
    const message = typeof err === 'string' ? err : typeof (err as Json).message === 'string' ? ((err as Json).message as string) : JSON.stringify(err);
    const code = typeof (err as Json).code === 'number' ? ((err as Json).code as number) : undefined;
    throw new RemoteError(`the server reported an error mid-stream: ${message}`, 'ENGINE_REMOTE_HTTP', code);
  }
  return j as Json;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function isIds(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => Number.isInteger(x) && x >= 0);
}

/** A log-probability as llama.cpp writes it: a number, or null for log(0) (its JSON has no -inf). */
function llamaLogprob(v: unknown): number | undefined {
  return v === null ? -Infinity : num(v);
}

interface Probs {
  logprobs: number[];
  /** Each token's text, where the server says. */
  pieces?: string[];
  /** Each token's id, where the server says. */
  ids?: number[];
}

/**
 * llama.cpp's probability entries ({id, token, logprob, top_logprobs}, one per generated token):
 * /completion's completion_probabilities and its OpenAI endpoints' logprobs.content. Undefined
 * when malformed.
 */
function llamaProbs(entries: unknown): Probs | undefined {
  if (!Array.isArray(entries)) return undefined;
  const out: Required<Probs> = { logprobs: [], pieces: [], ids: [] };
  for (const e of entries as (Json | null)[]) {
    const lp = llamaLogprob(e?.logprob);
    if (lp === undefined || typeof e!.token !== 'string' || !Number.isInteger(e!.id)) return undefined;
    out.logprobs.push(lp);
    out.pieces.push(e!.token);
    out.ids.push(e!.id as number);
  }
  return out;
}

/**
 * The generated tokens' log-probabilities of one OpenAI completion choice: the legacy completions
 * format (tokens and token_logprobs: OpenAI, vLLM, SGLang) or llama-server's (content entries).
 * Undefined when absent or malformed.
 */
function openaiLogprobs(lp: unknown): Probs | undefined {
  if (lp === null || typeof lp !== 'object') return undefined;
  const j = lp as Json;
  if (j.content !== undefined) return llamaProbs(j.content);
  const values = j.token_logprobs;
  if (!Array.isArray(values) || !values.every((v) => num(v) !== undefined)) return undefined;
  const tokens = j.tokens;
  const pieces = Array.isArray(tokens) && tokens.length === values.length && tokens.every((t) => typeof t === 'string') ? (tokens as string[]) : undefined;
  return { logprobs: values as number[], ...(pieces ? { pieces } : {}) };
}

/**
 * The event's probability fields when they line up with what it generated: one per id (and the
 * same ids, where the server names them), or, in text mode, pieces that make up the text (without
 * them the log-probabilities stand alone, and a cut inside the event keeps none of its text).
 */
function alignProbs(p: Probs, ids: number[] | undefined, text: string): Pick<ApiEvent, 'logprobs' | 'pieces'> {
  if (ids) {
    if (p.logprobs.length !== ids.length || (p.ids && p.ids.some((id, i) => id !== ids[i]))) return {};
    return { logprobs: p.logprobs };
  }
  if (p.logprobs.length === 0) return {};
  return { logprobs: p.logprobs, ...(p.pieces && p.pieces.join('') === text ? { pieces: p.pieces } : {}) };
}

/** OpenAI-compatible POST /v1/completions with stream: true. */
const openai: ApiSpec = {
  path: '/v1/completions',
  body: (r) => ({
    ...(r.model ? { model: r.model } : {}),
    prompt: r.prompt,
    max_tokens: r.maxTokens,
    temperature: r.temperature,
    ...(r.seed !== undefined ? { seed: r.seed } : {}),
    ...(r.stopText.length > 0 ? { stop: r.stopText } : {}),
    // the emitted token's log-probability and the top one's: 1, not 0, as llama-server reads
    // `logprobs` as its n_probs (0 = none); vLLM and OpenAI take 0..5 (legacy completions format)
    ...(r.logprobs ? { logprobs: 1 } : {}),
    stream: true,
    stream_options: { include_usage: true },
  }),
  parse(data) {
    if (data.trim() === '[DONE]') return { finished: true };
    const j = parseJson(data);
    const ev: ApiEvent = {};
    const choices = j.choices;
    if (!Array.isArray(choices)) throw new RemoteError(`malformed completion chunk (no choices): ${data.slice(0, 120)}`, 'ENGINE_REMOTE_BAD_STREAM');
    const c = choices[0] as Json | undefined;
    if (c) {
      // Servers that also send the generated ids (TensorRT-LLM, vLLM with return_token_ids): exact.
      if (isIds(c.token_ids) && c.token_ids.length > 0) ev.ids = c.token_ids;
      else if (typeof c.text === 'string' && c.text !== '') ev.text = c.text;
      const probs = openaiLogprobs(c.logprobs);
      if (probs) Object.assign(ev, alignProbs(probs, ev.ids, typeof c.text === 'string' ? c.text : ''));
      if (typeof c.finish_reason === 'string') ev.end = c.finish_reason === 'length' ? 'max_tokens' : 'eos';
    }
    const usage = j.usage as Json | undefined | null;
    if (usage && typeof usage === 'object') {
      ev.promptTokens = num(usage.prompt_tokens);
      ev.completionTokens = num(usage.completion_tokens);
      ev.cachedTokens = num((usage.prompt_tokens_details as Json | undefined)?.cached_tokens);
    }
    return ev;
  },
};

/** llama.cpp's own POST /completion with stream: true. */
const llamaServer: ApiSpec = {
  path: '/completion',
  body: (r) => ({
    prompt: r.prompt,
    n_predict: r.maxTokens,
    temperature: r.temperature,
    ...(r.seed !== undefined ? { seed: r.seed } : {}),
    stream: true,
    // keep this request's KV in the slot: the next keystroke's prompt shares its prefix
    cache_prompt: true,
    // the generated ids, so the local tokenizer decodes exactly what the model produced
    return_tokens: true,
    // timings (with cache_n, the prompt tokens served from the slot's cache) on every event, so a
    // generation stopped early still reports its reuse
    timings_per_token: true,
    // each generated token's log-probability, the softmax of the raw logits (temperature 1): the
    // smallest n_probs that reports them (the emitted token's comes whatever its rank); never
    // post_sampling_probs, which gives the probabilities after the sampler chain
    ...(r.logprobs ? { n_probs: 1 } : {}),
  }),
  parse(data) {
    const j = parseJson(data);
    const ev: ApiEvent = {};
    if (j.tokens !== undefined) {
      if (!isIds(j.tokens)) throw new RemoteError(`malformed tokens in the stream: ${JSON.stringify(j.tokens).slice(0, 120)}`, 'ENGINE_REMOTE_BAD_STREAM');
      if (j.tokens.length > 0) ev.ids = j.tokens;
      const probs = ev.ids && llamaProbs(j.completion_probabilities);
      if (probs) Object.assign(ev, alignProbs(probs, ev.ids, ''));
    } else if (typeof j.content === 'string' && j.content !== '') {
      throw new RemoteError('the server sends text without token ids (return_tokens unsupported: use engine.remote.api "openai")', 'ENGINE_REMOTE_BAD_STREAM');
    }
    const cached = num((j.timings as Json | undefined)?.cache_n);
    if (cached !== undefined) ev.cachedTokens = cached;
    if (j.stop === true) {
      ev.finished = true;
      ev.end = j.stop_type === 'limit' ? 'max_tokens' : 'eos';
      ev.promptTokens = num(j.tokens_evaluated);
      ev.completionTokens = num(j.tokens_predicted);
    }
    return ev;
  },
};

/** The first model id of an OpenAI-compatible GET /v1/models answer, or undefined. */
export function firstModelId(body: unknown): string | undefined {
  const data = (body as { data?: unknown } | null)?.data;
  const id = Array.isArray(data) ? (data[0] as { id?: unknown } | undefined)?.id : undefined;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

export const REMOTE_APIS: Record<RemoteApi, ApiSpec> = { openai, 'llama-server': llamaServer };
