/**
 * OpenTelemetry export against a local OTLP/HTTP receiver started here: with
 * slipstream.trace.otlpEndpoint set, each request's spans arrive with the same names, nesting
 * (parent ids), times and attributes as its trace; a client's W3C trace id becomes the trace id
 * and its span id the parent. With no endpoint set nothing is sent, even when the standard
 * OTEL_EXPORTER_OTLP_* variables name one.
 */
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import type { RequestTrace } from '../../server/src/protocol.js';
import { FakeEngineHost } from '../helpers/fake-engine.js';
import { createPair, type LspPair } from '../helpers/lsp-pair.js';
import { OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.js';

let pair: LspPair | undefined;
let receiver: OtlpReceiver | undefined;
afterEach(async () => {
  pair?.dispose();
  await receiver?.close();
  pair = undefined;
  receiver = undefined;
});

async function start(trace: Record<string, unknown>): Promise<LspPair> {
  const engine = new FakeEngineHost();
  engine.respond = () => 'ok();';
  pair = createPair({ engineHost: engine });
  await pair.initialize({}, { completion: { debounceMs: 0 }, trace });
  return pair;
}

const count = (t: RequestTrace): number => {
  const walk = (s: NonNullable<RequestTrace['spans']>): number => 1 + (s.children ?? []).reduce((n, c) => n + walk(c), 0);
  return walk(t.spans!);
};

describe('OpenTelemetry export', () => {
  it('sends every span with its name, parent, times and attributes', async () => {
    receiver = await OtlpReceiver.start();
    const p = await start({ otlpEndpoint: receiver.url });
    const clientTraceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    await p.client.sendRequest('slipstream/complete', { text: 'x', offset: 1, uri: 'untitled:a', clientTrace: { traceId: clientTraceId } });
    await p.client.sendRequest('slipstream/complete', { text: 'y', offset: 1, uri: 'untitled:b', clientTrace: { traceId: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', spanId: '00f067aa0ba902b7' } });
    const { traces } = (await p.client.sendRequest('slipstream/traces', {})) as { traces: RequestTrace[] };
    await p.server.completion.traces.flush();
    await receiver.waitFor(count(traces[0]!) + count(traces[1]!));
    expect(receiver.posts.every((x) => x.path === '/v1/traces' && x.contentType.startsWith('application/json'))).toBe(true);

    const [a, b] = traces;
    const byTrace = (id: string): ReceivedSpan[] => receiver!.spans.filter((s) => s.traceId === id);
    const spans = byTrace(clientTraceId);
    expect(spans).toHaveLength(count(a!));
    const root = spans.find((s) => s.name === 'request')!;
    expect(root).toMatchObject({ parentSpanId: '', kind: 2, service: 'slipstream' });
    expect(root.attributes).toMatchObject({
      'slipstream.id': a!.id,
      'slipstream.uri': 'untitled:a',
      'slipstream.outcome': 'shown',
      'slipstream.trigger': 'complete',
      'slipstream.client.trace_id': clientTraceId,
      'slipstream.prompt_tokens': a!.promptTokens!,
    });
    expect(root.startMs).toBeCloseTo(a!.startedAt, 2);
    expect(root.endMs - root.startMs).toBeCloseTo(a!.totalMs, 2);
    // the stages are the root's children, in the trace's order, with its attributes prefixed
    const stages = spans.filter((s) => s.parentSpanId === root.spanId).sort((x, y) => x.startMs - y.startMs || x.endMs - y.endMs);
    expect(stages.map((s) => s.name)).toEqual(a!.spans!.children!.map((c) => c.name));
    expect(stages.find((s) => s.name === 'cache')!.attributes).toEqual({ 'slipstream.hit': 'none' });
    const decode = stages.find((s) => s.name === 'decode')!;
    const rounds = spans.filter((s) => s.parentSpanId === decode.spanId);
    expect(rounds.map((r) => r.name)).toEqual(Array(rounds.length).fill('round'));
    expect(rounds.length).toBe('ok();'.length - 1);
    expect(rounds[0]!.attributes).toMatchObject({ 'slipstream.mode': 'ar', 'slipstream.tokens': 1 });
    for (const s of stages) {
      expect(s.startMs).toBeGreaterThanOrEqual(root.startMs - 0.002); // ms to ns and back: a microsecond either way
      expect(s.endMs).toBeLessThanOrEqual(root.endMs + 0.002);
    }
    // with a span id too, the editor's span is the parent of the request span
    const other = byTrace('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');
    expect(other).toHaveLength(count(b!));
    expect(other.find((s) => s.name === 'request')!.parentSpanId).toBe('00f067aa0ba902b7');
  });

  it('sends nothing when no endpoint is set, whatever the environment says', async () => {
    receiver = await OtlpReceiver.start();
    const saved = { all: process.env.OTEL_EXPORTER_OTLP_ENDPOINT, traces: process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT };
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url.replace('/v1/traces', '');
    process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = receiver.url;
    try {
      const p = await start({});
      for (let i = 0; i < 3; i++) await p.client.sendRequest('slipstream/complete', { text: 'x', offset: 1 });
      await p.server.completion.traces.flush();
      await new Promise((r) => setTimeout(r, 1500)); // longer than the exporter's batch delay
      expect(receiver.posts).toEqual([]);
    } finally {
      for (const [k, v] of [['OTEL_EXPORTER_OTLP_ENDPOINT', saved.all], ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', saved.traces]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('reports an endpoint that does not answer once, and answers requests as usual', async () => {
    // the exporter's own give-up time (it retries within it), read when it is made
    process.env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT = '1000';
    const p = await start({ otlpEndpoint: 'http://127.0.0.1:9/v1/traces' });
    onTestFinished(() => void delete process.env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT);
    for (let i = 0; i < 2; i++) await expect(p.client.sendRequest('slipstream/complete', { text: 'x', offset: 1 })).resolves.toMatchObject({ items: [{ insertText: 'ok();' }] });
    await p.server.completion.traces.flush().catch(() => {});
    const deadline = Date.now() + 10_000;
    while (!p.logs.some((l) => l.message.includes('OpenTelemetry export to http://127.0.0.1:9/v1/traces failed')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(p.logs.filter((l) => l.message.includes('OpenTelemetry export')).length).toBe(1);
  });
});
