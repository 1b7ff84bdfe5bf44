/**
 * RemoteEngineHost against a FAKE HTTP server (node:http, scripted per test): the failures a real
 * server cannot be made to produce on demand (HTTP errors, malformed or truncated streams, a
 * stall) become RemoteErrors with their codes; failures back off and a success clears it; aborting
 * closes the connection; consecutive requests reuse one keep-alive connection; the API key goes in
 * the Authorization header and nowhere else (errors, status, logs); with minTokenProbability the
 * request asks for token probabilities and the generation ends (its request closed) before the
 * first unsure token, by ids or at a token boundary of text, and a server that sends none is not cut. The real llama-server is
 * test/remote's.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultSettings, type Settings } from '../../../server/src/config.js';
import type { GeneratedChunk } from '../../../server/src/completion/engine-host.js';
import { RemoteEngineHost } from '../../../server/src/completion/remote/remote-engine-host.js';
import { Logger } from '../../../server/src/log.js';
import type { RemoteExchange } from '../../../server/src/protocol.js';
import { repoRoot } from '../../helpers/paths.js';

const model = join(repoRoot, 'fixtures', 'models', 'slipstream-code');
const KEY_ENV = 'SLIPSTREAM_TEST_REMOTE_KEY';
const KEY = 'sk-test-5f1c9a0e7d3b';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

interface FakeServer {
  url: string;
  connections: number;
  requests: { path: string; headers: IncomingMessage['headers']; body: unknown }[];
  closedEarly: number;
  handler: Handler;
  close(): Promise<void>;
}

/** A FAKE completion server on a loopback port; `handler` answers each request. */
async function fakeServer(handler: Handler): Promise<FakeServer> {
  const fake: FakeServer = {
    url: '',
    connections: 0,
    requests: [],
    closedEarly: 0,
    handler,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      fake.requests.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(body || 'null') });
      res.on('close', () => {
        if (!res.writableFinished) fake.closedEarly++;
      });
      fake.handler(req, res, body);
    });
  });
  server.on('connection', () => fake.connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  servers.push(fake);
  return fake;
}

/** A llama-server /completion stream of these ids, then the final event. */
const llamaStream = (ids: number[]): Handler => (_req, res) => {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const id of ids) res.write(`data: {"content":"","tokens":[${id}],"stop":false}\n\n`);
  res.end(`data: {"content":"","tokens":[],"stop":true,"stop_type":"limit","tokens_evaluated":5,"tokens_predicted":${ids.length},"timings":{"cache_n":3}}\n\n`);
};

const servers: FakeServer[] = [];
const logs: string[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  logs.length = 0;
  delete process.env[KEY_ENV];
});

function host(url: string, remote: Partial<Settings['engine']['remote']> = {}): RemoteEngineHost {
  const h = new RemoteEngineHost(new Logger((level, m) => logs.push(`${level} ${m}`)), { backoff: { baseMs: 150, maxMs: 600 } });
  const engine = defaultSettings().engine;
  h.configure({ ...engine, model, backend: 'remote', remote: { ...engine.remote, url, api: 'llama-server', timeoutMs: 2000, ...remote } });
  return h;
}

async function run(h: RemoteEngineHost, signal = new AbortController().signal): Promise<{ chunks: GeneratedChunk[]; exchange?: RemoteExchange; error?: { code?: string; message: string } }> {
  const chunks: GeneratedChunk[] = [];
  let exchange: RemoteExchange | undefined;
  try {
    for await (const c of h.generate({ key: 'k', prompt: Int32Array.from([10, 11, 12]), maxTokens: 8, stopTokens: [4090], temperature: 0, signal, onRemote: (e) => (exchange = e) })) chunks.push(c);
    return { chunks, exchange };
  } catch (err) {
    return { chunks, exchange, error: { code: (err as { code?: string }).code, message: (err as Error).message } };
  }
}

describe('RemoteEngineHost (fake server)', () => {
  it('streams ids, stops at a stop token the server would generate past, and reports the exchange', async () => {
    const fake = await fakeServer(llamaStream([5, 6, 4090, 7]));
    const h = host(fake.url);
    const r = await run(h);
    expect(r.error).toBeUndefined();
    expect(r.chunks.map((c) => Array.from(c as Int32Array))).toEqual([[5], [6]]);
    expect(r.exchange).toMatchObject({ endpoint: `${fake.url}/completion`, api: 'llama-server', status: 200, tokens: 2, ended: 'completed' });
    expect(fake.requests[0]!.body).toMatchObject({ prompt: [10, 11, 12], n_predict: 8, cache_prompt: true, return_tokens: true, stream: true });
  });

  it('reuses one keep-alive connection for consecutive requests', async () => {
    const fake = await fakeServer(llamaStream([5, 6]));
    const h = host(fake.url);
    for (let i = 0; i < 3; i++) {
      expect((await run(h)).exchange?.ended).toBe('completed');
      // undici returns the socket to its pool a tick after the body ends; keystrokes are further apart
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(fake.requests.length).toBe(3);
    expect(fake.connections).toBe(1);
    await h.dispose();
  });

  it('a kept-alive connection the server closes as it is reused is sent once more on a fresh one; a server that always resets fails after that one retry', async () => {
    let n = 0;
    const fake = await fakeServer((req, res, body) => {
      if (++n === 2) req.socket.destroy(); // the second request: the server drops the connection unanswered
      else llamaStream([5, 6])(req, res, body);
    });
    const h = host(fake.url);
    for (let i = 0; i < 2; i++) {
      expect((await run(h)).exchange?.ended).toBe('completed');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(fake.requests.length).toBe(3); // the dropped one and its retry
    expect(fake.connections).toBe(2);
    expect(h.status().remote?.failures).toBe(0);

    const always = await fakeServer((req) => req.socket.destroy());
    const r = await run(host(always.url));
    expect(r.error?.code).toBe('ENGINE_REMOTE_UNREACHABLE');
    expect(r.error?.message).toMatch(/other side closed|ECONNRESET|socket hang up/);
    expect(always.requests.length).toBe(2);
    await h.dispose();
  });

  it('aborting the signal closes the request, and counts as aborted, not failed', async () => {
    const fake = await fakeServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"content":"","tokens":[5],"stop":false}\n\n'); // then nothing: the server is "generating"
    });
    const h = host(fake.url);
    const ac = new AbortController();
    const pending = run(h, ac.signal);
    await new Promise((r) => setTimeout(r, 100));
    ac.abort('cancelled');
    const r = await pending;
    expect(r.error?.message).toMatch(/cancelled|abort/i);
    expect(r.exchange?.ended).toBe('aborted');
    await expect.poll(() => fake.closedEarly).toBe(1);
    expect(h.status().remote?.failures).toBe(0);
  });

  it('maps HTTP errors, bad content, malformed and truncated streams, and stalls to coded errors', async () => {
    const cases: [Handler, string, RegExp][] = [
      [(_q, s) => s.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}'), 'ENGINE_REMOTE_HTTP', /HTTP 503: Loading model/],
      [(_q, s) => s.writeHead(200, { 'content-type': 'application/json' }).end('{}'), 'ENGINE_REMOTE_BAD_STREAM', /not an event stream/],
      [(_q, s) => s.writeHead(200, { 'content-type': 'text/event-stream' }).end('data: {"tokens":[5],\n\n'), 'ENGINE_REMOTE_BAD_STREAM', /malformed event/],
      [(_q, s) => s.writeHead(200, { 'content-type': 'text/event-stream' }).end('data: {"tokens":[5],"stop":false}\n\n'), 'ENGINE_REMOTE_BAD_STREAM', /ended the stream before the completion finished/],
      [(_q, s) => s.writeHead(200, { 'content-type': 'text/event-stream' }).write(': ping\n\n'), 'ENGINE_REMOTE_TIMEOUT', /no event from .* within 300 ms/],
    ];
    for (const [handler, code, message] of cases) {
      const fake = await fakeServer(handler);
      const r = await run(host(fake.url, { timeoutMs: 300 }));
      expect(r.error?.code, String(message)).toBe(code);
      expect(r.error?.message).toMatch(message);
    }
  });

  it('backs off after a refused connection, answers from the backoff without connecting, and recovers', async () => {
    const fake = await fakeServer(llamaStream([5]));
    const port = new URL(fake.url).port;
    await fake.close(); // nothing listens there now
    const h = host(`http://127.0.0.1:${port}`);
    const first = await run(h);
    expect(first.error?.code).toBe('ENGINE_REMOTE_UNREACHABLE');
    expect(first.error?.message).toMatch(/cannot reach http:\/\/127\.0\.0\.1:\d+\/completion: ECONNREFUSED/);
    const skipped = await run(h);
    expect(skipped.error?.code).toBe('ENGINE_REMOTE_UNREACHABLE');
    expect(skipped.error?.message).toMatch(/no new attempt during a 150 ms backoff/);
    const st = h.status();
    expect(st.state).toBe('error');
    expect(st.error?.code).toBe('ENGINE_REMOTE_UNREACHABLE');
    expect(st.remote).toMatchObject({ requests: 1, failures: 1, skipped: 1 });
    expect(logs.some((l) => /^warn .*ECONNREFUSED.*next attempt in 150 ms/.test(l))).toBe(true);

    // the server comes back on the same port
    const back = createServer((req, res) => llamaStream([5, 6])(req, res, ''));
    await new Promise<void>((r) => back.listen(Number(port), '127.0.0.1', () => r()));
    try {
      await new Promise((r) => setTimeout(r, 200));
      const again = await run(h);
      expect(again.error).toBeUndefined();
      expect(h.status().state).toBe('ready');
      expect(logs.some((l) => /answers again after 1 failed attempt/.test(l))).toBe(true);
    } finally {
      back.closeAllConnections();
      await new Promise((r) => back.close(r));
    }
  });

  it('a rejected prompt (HTTP 400) is that request\'s error and does not back off', async () => {
    const fake = await fakeServer((_q, s) => s.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"code":400,"message":"the request exceeds the available context size","type":"exceed_context_size_error"}}'));
    const h = host(fake.url);
    expect((await run(h)).error?.message).toMatch(/exceeds the available context size/);
    expect((await run(h)).error?.message).not.toMatch(/backoff/);
    expect(fake.requests.length).toBe(2);
  });

  it('sends the key from the named environment variable as a bearer token, and shows it nowhere else', async () => {
    process.env[KEY_ENV] = KEY;
    // a server that echoes what it was sent in its error (some proxies do)
    const fake = await fakeServer((req, res) => res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `bad key ${req.headers.authorization}` } })));
    const h = host(fake.url, { apiKeyEnv: KEY_ENV });
    const r = await run(h);
    expect(fake.requests[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(r.error?.message).toMatch(/HTTP 401: bad key Bearer \*\*\*/);
    const status = JSON.stringify(h.status());
    expect(status).toContain(`"apiKeyEnv":"${KEY_ENV}"`);
    expect(status).toContain('"apiKeySet":true');
    for (const text of [r.error!.message, status, JSON.stringify(r.exchange), ...logs]) expect(text).not.toContain(KEY);
  });

  it('warns when the named variable is not set, and sends no Authorization header', async () => {
    const fake = await fakeServer(llamaStream([5]));
    const h = host(fake.url, { apiKeyEnv: KEY_ENV });
    await run(h);
    expect(fake.requests[0]!.headers.authorization).toBeUndefined();
    expect(logs.some((l) => l.includes(`${KEY_ENV}, which is not set`))).toBe(true);
    expect(h.status().remote?.apiKeySet).toBe(false);
  });

  it('says what is missing when the remote group is not configured', async () => {
    const h = host('');
    expect(h.status().state).toBe('unconfigured');
    expect((await run(h)).error).toMatchObject({ code: 'ENGINE_REMOTE_UNCONFIGURED', message: 'engine.backend is "remote" but engine.remote.url is empty' });
  });
});

/** One llama-server /completion event: a token with its log-probability (n_probs 1). */
const llamaProbEvent = (id: number, p: number): string =>
  `data: {"content":"","tokens":[${id}],"stop":false,"completion_probabilities":[{"id":${id},"token":"t","bytes":[116],"logprob":${Math.log(p)},"top_logprobs":[]}]}\n\n`;

/** One OpenAI /v1/completions chunk: text of these tokens with their log-probabilities (llama-server's content entries). */
const openaiProbEvent = (tokens: [string, number][]): string =>
  `data: ${JSON.stringify({ choices: [{ index: 0, text: tokens.map(([t]) => t).join(''), logprobs: { content: tokens.map(([t, p], i) => ({ id: i, token: t, logprob: Math.log(p), top_logprobs: [] })) }, finish_reason: null }] })}\n\n`;

/** A generation of the host with minTokenProbability, with its summary. */
async function runUnsure(h: RemoteEngineHost, minTokenProbability: number): Promise<{ chunks: GeneratedChunk[]; summary: unknown; exchange?: RemoteExchange }> {
  const chunks: GeneratedChunk[] = [];
  let exchange: RemoteExchange | undefined;
  const gen = h.generate({ key: 'k', prompt: Int32Array.from([10, 11, 12]), maxTokens: 8, stopTokens: [4090], temperature: 0, minTokenProbability, signal: new AbortController().signal, onRemote: (e) => (exchange = e) });
  for (;;) {
    const r = await gen.next();
    if (r.done) return { chunks, summary: r.value, exchange };
    chunks.push(r.value);
  }
}

describe('RemoteEngineHost: completion.minTokenProbability (fake server)', () => {
  it('llama-server: asks for n_probs 1, yields the ids before the first unsure token, ends the request, stoppedBy unsure', async () => {
    // the server goes on after the unsure token and never ends the stream by itself
    const fake = await fakeServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(llamaProbEvent(5, 0.9) + llamaProbEvent(6, 0.5) + llamaProbEvent(7, 0.05) + llamaProbEvent(8, 0.9));
    });
    const r = await runUnsure(host(fake.url), 0.1);
    expect(r.chunks.map((c) => Array.from(c as Int32Array))).toEqual([[5], [6]]);
    expect(r.summary).toMatchObject({ stoppedBy: 'unsure' });
    expect(r.exchange).toMatchObject({ tokens: 2, ended: 'completed' });
    expect(fake.requests[0]!.body).toMatchObject({ n_probs: 1 });
    await expect.poll(() => fake.closedEarly).toBe(1);
  });

  it('a bound of 0 asks for no probabilities and cuts nothing', async () => {
    const fake = await fakeServer(llamaStream([5, 6]));
    const r = await runUnsure(host(fake.url), 0);
    expect(fake.requests[0]!.body).not.toHaveProperty('n_probs');
    expect(r.summary).toMatchObject({ stoppedBy: 'max_tokens' });
  });

  it('a stop token before the unsure token ends the generation as eos', async () => {
    const fake = await fakeServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(llamaProbEvent(5, 0.9) + llamaProbEvent(4090, 0.05) + llamaProbEvent(8, 0.01));
    });
    const r = await runUnsure(host(fake.url), 0.1);
    expect(r.chunks.map((c) => Array.from(c as Int32Array))).toEqual([[5]]);
    expect(r.summary).toMatchObject({ stoppedBy: 'eos' });
  });

  it('openai (text): cuts at the token boundary inside an event, and ends the request', async () => {
    const fake = await fakeServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(openaiProbEvent([['return', 0.95]]) + openaiProbEvent([[' a', 0.6], [' +', 0.08], [' b', 0.9]]) + openaiProbEvent([[';', 0.9]]));
    });
    const r = await runUnsure(host(fake.url, { api: 'openai', model: 'm' }), 0.1);
    expect(r.chunks).toEqual([{ text: 'return', tokens: 1 }, { text: ' a', tokens: 1 }]);
    expect(r.summary).toMatchObject({ stoppedBy: 'unsure' });
    expect(r.exchange).toMatchObject({ tokens: 2, ended: 'completed' });
    expect(fake.requests[0]!.body).toMatchObject({ logprobs: 1 });
    await expect.poll(() => fake.closedEarly).toBe(1);
  });

  it('openai (text): the first token of the generation unsure yields nothing', async () => {
    const fake = await fakeServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(openaiProbEvent([['x', 0.02]]));
    });
    const r = await runUnsure(host(fake.url, { api: 'openai', model: 'm' }), 0.1);
    expect(r.chunks).toEqual([]);
    expect(r.summary).toMatchObject({ stoppedBy: 'unsure' });
  });

  it('a server that sends no probabilities is not cut, fails nothing, and says so once', async () => {
    const fake = await fakeServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"choices":[{"index":0,"text":"ab","logprobs":null,"finish_reason":null}]}\n\n');
      res.write('data: {"choices":[{"index":0,"text":"c","finish_reason":"length"}]}\n\n');
      res.end('data: [DONE]\n\n');
    });
    const h = host(fake.url, { api: 'openai', model: 'm' });
    for (let i = 0; i < 3; i++) {
      const r = await runUnsure(h, 0.1);
      expect(r.chunks).toEqual([{ text: 'ab', tokens: 1 }, { text: 'c', tokens: 1 }]);
      expect(r.summary).toMatchObject({ stoppedBy: 'max_tokens' });
    }
    expect(logs.filter((l) => l.includes('reports no token probabilities')).length).toBe(1);
    expect(h.status().remote?.failures).toBe(0);
  });
});
