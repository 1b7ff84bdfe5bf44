/**
 * The remote engine's pure parts: the request bodies and event parsing of the two APIs (event
 * payloads in the shapes llama-server and OpenAI-compatible servers send, with and without token
 * log-probabilities, and malformed probability fields ignored), the endpoint and
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

  it('asks for n_probs 1 only with logprobs, never post_sampling_probs', () => {
    expect(api.body({ ...request, logprobs: true })).toMatchObject({ n_probs: 1 });
    expect(api.body({ ...request, logprobs: true })).not.toHaveProperty('post_sampling_probs');
    expect(api.body({ ...request, logprobs: false })).not.toHaveProperty('n_probs');
  });

  it("reads the emitted tokens' log-probabilities from completion_probabilities, -inf written as null", () => {
    const event = (probs: string): string => `{"content":" x","tokens":[42],"stop":false,"completion_probabilities":${probs}}`;
    expect(api.parse(event('[{"id":42,"token":" x","bytes":[32,120],"logprob":-0.25,"top_logprobs":[{"id":42,"token":" x","bytes":[32,120],"logprob":-0.25}]}]'))).toEqual({ ids: [42], logprobs: [-0.25] });
    expect(api.parse(event('[{"id":42,"token":" x","logprob":null,"top_logprobs":[]}]'))).toEqual({ ids: [42], logprobs: [-Infinity] });
  });

  it('ignores malformed or misaligned probabilities (the tokens stand, the suggestion is not cut)', () => {
    const event = (probs: string): string => `{"content":" x","tokens":[42],"stop":false,"completion_probabilities":${probs}}`;
    for (const bad of ['{}', '"x"', '[{"id":42,"token":" x","logprob":"low"}]', '[{"id":41,"token":" x","logprob":-1}]', '[]', '[{"id":42,"token":" x","logprob":-1},{"id":43,"token":"y","logprob":-1}]', '[null]']) {
      expect(api.parse(event(bad)), bad).toEqual({ ids: [42] });
    }
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

  it('asks for logprobs 1 only with logprobs (llama-server reads 0 as none)', () => {
    expect(api.body({ ...request, logprobs: true })).toMatchObject({ logprobs: 1 });
    expect(api.body(request)).not.toHaveProperty('logprobs');
  });

  it('reads log-probabilities and token texts in the legacy completions format (OpenAI, vLLM)', () => {
    const chunk = '{"choices":[{"index":0,"text":" foo(","logprobs":{"tokens":[" foo","("],"token_logprobs":[-0.1,-3.2],"top_logprobs":[{" foo":-0.1},{"(":-3.2}],"text_offset":[0,4]},"finish_reason":null}]}';
    expect(api.parse(chunk)).toEqual({ text: ' foo(', logprobs: [-0.1, -3.2], pieces: [' foo', '('] });
    // with the ids (vLLM return_token_ids): one log-probability per id
    expect(api.parse('{"choices":[{"index":0,"text":" foo(","token_ids":[7,8],"logprobs":{"tokens":[" foo","("],"token_logprobs":[-0.1,-3.2]}}]}')).toEqual({ ids: [7, 8], logprobs: [-0.1, -3.2] });
    // token texts that do not make up the text: the log-probabilities alone
    expect(api.parse('{"choices":[{"index":0,"text":"é","logprobs":{"tokens":["bytes:\\\\xc3","bytes:\\\\xa9"],"token_logprobs":[-0.5,-0.01]}}]}')).toEqual({ text: 'é', logprobs: [-0.5, -0.01] });
  });

  it("reads llama-server's OpenAI logprobs (content entries), also on an event whose text is held back", () => {
    expect(api.parse('{"choices":[{"index":0,"text":" x","logprobs":{"content":[{"id":42,"token":" x","bytes":[32,120],"logprob":-2.5,"top_logprobs":[]}]},"finish_reason":null}]}')).toEqual({ text: ' x', logprobs: [-2.5], pieces: [' x'] });
    expect(api.parse('{"choices":[{"index":0,"text":"","logprobs":{"content":[{"id":3,"token":"","bytes":[],"logprob":-0.2,"top_logprobs":[]}]},"finish_reason":null}]}')).toEqual({ logprobs: [-0.2], pieces: [''] });
  });

  it('reads no probabilities where the server sends none or sends them malformed', () => {
    expect(api.parse('{"choices":[{"index":0,"text":" x","logprobs":null,"finish_reason":null}]}')).toEqual({ text: ' x' });
    for (const bad of ['"x"', '{}', '{"token_logprobs":[-1,"a"]}', '{"token_logprobs":"a"}', '{"content":[{"token":" x","logprob":-1}]}', '{"content":{}}', '{"token_logprobs":[]}']) {
      expect(api.parse(`{"choices":[{"index":0,"text":" x","logprobs":${bad}}]}`), bad).toEqual({ text: ' x' });
    }
    // ids with a different number of log-probabilities: misaligned, ignored
    expect(api.parse('{"choices":[{"index":0,"text":" x","token_ids":[7,8],"logprobs":{"token_logprobs":[-0.1]}}]}')).toEqual({ ids: [7, 8] });
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
