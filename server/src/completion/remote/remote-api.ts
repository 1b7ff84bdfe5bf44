/**
 * The completion APIs a remote host speaks, as data: where to POST, the request body for a
 * locally built prompt, and what one server-sent event says. `openai` is POST /v1/completions
 * (vLLM, SGLang, TensorRT-LLM's trtllm-serve, llama-server): text comes back, the prompt goes as
 * token ids or text. `llama-server` is llama.cpp's own POST /completion: the prompt goes as token
 * ids, the generated token ids come back (return_tokens), and cache_prompt keeps the slot's KV for
 * the next keystroke. No I/O here (event-stream.ts does it).
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
}

/** What one event of the stream says; every field is optional. */
export interface ApiEvent {
  /** Generated token ids. */
  ids?: number[];
  /** Generated text (APIs that return no ids). */
  text?: string;
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
  }),
  parse(data) {
    const j = parseJson(data);
    const ev: ApiEvent = {};
    if (j.tokens !== undefined) {
      if (!isIds(j.tokens)) throw new RemoteError(`malformed tokens in the stream: ${JSON.stringify(j.tokens).slice(0, 120)}`, 'ENGINE_REMOTE_BAD_STREAM');
      if (j.tokens.length > 0) ev.ids = j.tokens;
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
