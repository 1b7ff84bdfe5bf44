/**
 * The remote engine's pure parts: the request bodies and event parsing of the two APIs (event
 * payloads in the shapes llama-server and OpenAI-compatible servers send), the endpoint and
 * public URL, the backoff clock, and the engine.remote settings (validation; a rejected
 * apiKeyEnv value is never echoed). The real servers are test/remote's.
 */
import { describe, expect, it } from 'vitest';
import { applySettings, defaultSettings, engineChanged } from '../../../server/src/config.js';
import { Backoff } from '../../../server/src/completion/remote/backoff.js';
import { publicUrl, RemoteError, serverMessage } from '../../../server/src/completion/remote/event-stream.js';
import { firstModelId, REMOTE_APIS } from '../../../server/src/completion/remote/remote-api.js';
import { endpointUrl } from '../../../server/src/completion/remote/remote-engine-host.js';

const request = { prompt: [1, 2, 3], maxTokens: 16, temperature: 0, stopText: ['<|endoftext|>'], model: '' };

describe('llama-server API', () => {
  const api = REMOTE_APIS['llama-server'];

  it('posts the ids to /completion, streaming, with cache_prompt and return_tokens', () => {
    expect(api.path).toBe('/completion');
    expect(api.body(request)).toEqual({ prompt: [1, 2, 3], n_predict: 16, temperature: 0, stream: true, cache_prompt: true, return_tokens: true, timings_per_token: true });
  });

  it('reads token ids from partial events and the end, counts and cache reuse from the final one', () => {
    expect(api.parse('{"index":0,"content":" x","tokens":[42],"stop":false,"id_slot":0}')).toEqual({ ids: [42] });
    expect(api.parse('{"content":"","tokens":[],"stop":false}')).toEqual({});
    expect(api.parse('{"content":"x","tokens":[9],"stop":false,"timings":{"cache_n":120,"prompt_n":3}}')).toEqual({ ids: [9], cachedTokens: 120 });
    const final = api.parse('{"content":"","tokens":[],"stop":true,"stop_type":"limit","tokens_evaluated":300,"tokens_predicted":16,"timings":{"cache_n":290}}');
    expect(final).toEqual({ finished: true, end: 'max_tokens', promptTokens: 300, completionTokens: 16, cachedTokens: 290 });
    expect(api.parse('{"stop":true,"stop_type":"eos"}').end).toBe('eos');
  });

  it('turns error events and malformed data into RemoteErrors', () => {
    expect(() => api.parse('{"error":{"code":500,"message":"slot crashed","type":"server_error"}}')).toThrow(/slot crashed/);
    expect(() => api.parse('{"content":')).toThrow(RemoteError);
    expect(() => api.parse('[1,2]')).toThrow(/malformed/);
    expect(() => api.parse('{"tokens":["a"],"stop":false}')).toThrow(/malformed tokens/);
    expect(() => api.parse('{"content":"x","stop":false}')).toThrow(/without token ids/);
  });
});

describe('OpenAI completions API', () => {
  const api = REMOTE_APIS.openai;

  it('posts to /v1/completions with max_tokens, temperature, stop, stream and usage; model only when set', () => {
    expect(api.path).toBe('/v1/completions');
    expect(api.body(request)).toEqual({ prompt: [1, 2, 3], max_tokens: 16, temperature: 0, stop: ['<|endoftext|>'], stream: true, stream_options: { include_usage: true } });
    expect(api.body({ ...request, model: 'qwen', prompt: 'text', stopText: [] })).toEqual({ model: 'qwen', prompt: 'text', max_tokens: 16, temperature: 0, stream: true, stream_options: { include_usage: true } });
  });

  it('reads text, finish_reason, usage with cached tokens, and [DONE]', () => {
    expect(api.parse('{"id":"c","object":"text_completion","choices":[{"index":0,"text":"ab","finish_reason":null}]}')).toEqual({ text: 'ab' });
    expect(api.parse('{"choices":[{"index":0,"text":"","finish_reason":"length"}]}')).toEqual({ end: 'max_tokens' });
    expect(api.parse('{"choices":[{"index":0,"text":"","finish_reason":"stop"}]}')).toEqual({ end: 'eos' });
    expect(api.parse('{"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":4,"prompt_tokens_details":{"cached_tokens":8}}}')).toEqual({ promptTokens: 10, completionTokens: 4, cachedTokens: 8 });
    expect(api.parse('[DONE]')).toEqual({ finished: true });
  });

  it('prefers the generated ids where the server sends them along (TensorRT-LLM, vLLM return_token_ids)', () => {
    expect(api.parse('{"choices":[{"index":0,"text":" x","token_ids":[7,8],"finish_reason":null}]}')).toEqual({ ids: [7, 8] });
  });

  it("takes the first model of GET /v1/models as the request's model", () => {
    expect(firstModelId({ object: 'list', data: [{ id: 'Qwen/Qwen2.5-Coder-1.5B', object: 'model' }] })).toBe('Qwen/Qwen2.5-Coder-1.5B');
    expect(firstModelId({ data: [] })).toBeUndefined();
    expect(firstModelId(null)).toBeUndefined();
  });

  it('rejects a chunk without choices and reports error events', () => {
    expect(() => api.parse('{"object":"text_completion"}')).toThrow(/no choices/);
    expect(() => api.parse('{"error":{"message":"model not found"}}')).toThrow(/model not found/);
  });
});

describe('URLs', () => {
  it('puts the API path under the base URL, with or without /v1 or a trailing slash', () => {
    expect(endpointUrl('http://127.0.0.1:8080', 'llama-server')).toBe('http://127.0.0.1:8080/completion');
    expect(endpointUrl('http://gpu:8000/', 'openai')).toBe('http://gpu:8000/v1/completions');
    expect(endpointUrl('https://gw.example/team/v1', 'openai')).toBe('https://gw.example/team/v1/completions');
    expect(endpointUrl('https://gw.example/team', 'openai')).toBe('https://gw.example/team/v1/completions');
  });

  it('shows URLs without credentials or query', () => {
    expect(publicUrl('http://user:secret@gpu:8000/v1/completions?key=abc')).toBe('http://gpu:8000/v1/completions');
    expect(publicUrl('not a url')).toBe('(invalid URL)');
  });

  it("quotes the server's own error message", () => {
    expect(serverMessage('{"error":{"code":401,"message":"Invalid API Key","type":"authentication_error"}}')).toBe('Invalid API Key');
    expect(serverMessage('{"object":"error","message":"The model `x` does not exist."}')).toBe('The model `x` does not exist.');
    expect(serverMessage('Bad Gateway')).toBe('Bad Gateway');
  });
});

describe('backoff', () => {
  it('doubles the wait per failure up to the cap, and a success clears it', () => {
    let now = 1000;
    const b = new Backoff(100, 500, () => now);
    expect(b.remaining()).toBe(0);
    expect(b.fail()).toBe(100);
    expect(b.remaining()).toBe(100);
    now += 60;
    expect(b.remaining()).toBe(40);
    expect([b.fail(), b.fail(), b.fail(), b.fail()]).toEqual([200, 400, 500, 500]);
    expect(b.failures).toBe(5);
    b.succeed();
    expect(b.remaining()).toBe(0);
    expect(b.failures).toBe(0);
  });
});

describe('engine.remote settings', () => {
  it('accepts the remote group and backend "remote", nested or dotted', () => {
    const { settings, warnings } = applySettings(defaultSettings(), {
      engine: { backend: 'remote', remote: { url: 'http://gpu:8000', api: 'llama-server', model: 'm', apiKeyEnv: 'TEAM_KEY', timeoutMs: 5000 } },
      'slipstream.engine.remote.prompt': 'text',
    });
    expect(warnings).toEqual([]);
    expect(settings.engine.backend).toBe('remote');
    expect(settings.engine.remote).toEqual({ url: 'http://gpu:8000', api: 'llama-server', model: 'm', apiKeyEnv: 'TEAM_KEY', timeoutMs: 5000, prompt: 'text' });
    expect(engineChanged(defaultSettings(), settings)).toBe(true);
  });

  it('rejects bad values with a warning each, and never repeats a rejected apiKeyEnv (it may be a pasted key)', () => {
    const { settings, warnings } = applySettings(defaultSettings(), {
      engine: { remote: { url: 'ftp://x', api: 'grpc', apiKeyEnv: 'sk-live-123456', timeoutMs: 5, apiKey: 'sk-other-999' } },
    });
    expect(settings.engine.remote).toEqual(defaultSettings().engine.remote);
    expect(warnings.join('\n')).toMatch(/engine\.remote\.url = "ftp:\/\/x" ignored: expected an http/);
    expect(warnings.join('\n')).toMatch(/engine\.remote\.api = "grpc" ignored/);
    expect(warnings.join('\n')).toMatch(/engine\.remote\.timeoutMs = 5 ignored/);
    expect(warnings.join('\n')).toMatch(/setting slipstream\.engine\.remote\.apiKeyEnv ignored: expected the name of an environment variable/);
    expect(warnings.join('\n')).toMatch(/unknown setting slipstream\.engine\.remote\.apiKey ignored/);
    expect(warnings.join('\n')).not.toMatch(/sk-live|sk-other/);
  });
});
