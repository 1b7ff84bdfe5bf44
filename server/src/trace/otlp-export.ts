/**
 * OpenTelemetry export (slipstream.trace.otlpEndpoint): each finished request's span tree becomes
 * OpenTelemetry spans with the same names, times, nesting and attributes (prefixed
 * `slipstream.`), batched to an OTLP/HTTP (JSON) endpoint through the official SDK and exporter.
 * Loaded only when an endpoint is set: with none, none of these packages is even loaded and
 * nothing is sent. A client's W3C trace id becomes the trace id and its span id the parent, so
 * an editor's own spans join the server's. Headers, TLS files and timeouts come from the standard
 * OTEL_EXPORTER_OTLP_* variables; the endpoint only from the setting.
 */
import type { Context, Span, Tracer } from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { RequestTrace, TraceSpan } from '../protocol.js';
import { VERSION } from '../version.js';
import { isW3cSpanId, isW3cTraceId } from './client-trace.js';

type Api = typeof import('@opentelemetry/api');
type Attrs = Record<string, string | number | boolean>;

/** ms since the epoch as OpenTelemetry's [seconds, nanoseconds]. */
export function hrTime(ms: number): [number, number] {
  const s = Math.floor(ms / 1000);
  const ns = Math.min(999_999_999, Math.round((ms - s * 1000) * 1e6));
  return [s, ns];
}

function prefixed(attrs: Attrs | undefined): Attrs {
  const out: Attrs = {};
  for (const [k, v] of Object.entries(attrs ?? {})) out[`slipstream.${k}`] = v;
  return out;
}

/** The request span's attributes: the trace record's own fields. */
function requestAttrs(r: RequestTrace): Attrs {
  const a: Attrs = {
    'slipstream.id': r.id,
    'slipstream.uri': r.uri,
    'slipstream.trigger': r.trigger,
    'slipstream.outcome': r.outcome,
    'slipstream.total_ms': r.totalMs,
  };
  if (r.version !== null) a['slipstream.version'] = r.version;
  if (r.promptTokens !== undefined) a['slipstream.prompt_tokens'] = r.promptTokens;
  if (r.reusedTokens !== undefined) a['slipstream.reused_tokens'] = r.reusedTokens;
  if (r.generatedTokens !== undefined) a['slipstream.generated_tokens'] = r.generatedTokens;
  if (r.client?.traceId !== undefined) a['slipstream.client.trace_id'] = r.client.traceId;
  if (r.client?.keystrokeAt !== undefined) a['slipstream.client.keystroke_at'] = r.client.keystrokeAt;
  if (r.client?.editorMs !== undefined) a['slipstream.client.editor_ms'] = r.client.editorMs;
  if (r.error) a['slipstream.error'] = r.error;
  return a;
}

export class OtlpExport {
  private constructor(
    private readonly api: Api,
    private readonly tracer: Tracer,
    private readonly ids: { next: string | null },
    private readonly provider: { forceFlush(): Promise<void>; shutdown(): Promise<void> },
    readonly endpoint: string,
  ) {}

  /** Loads the SDK and starts a batching exporter to `endpoint`; `warn` hears of failed exports (once per run of failures). */
  static async start(endpoint: string, warn: (message: string) => void, options: { delayMs?: number } = {}): Promise<OtlpExport> {
    const [api, sdk, resources, otlp] = await Promise.all([
      import('@opentelemetry/api'),
      import('@opentelemetry/sdk-trace-base'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/exporter-trace-otlp-http'),
    ]);
    const inner = new otlp.OTLPTraceExporter({ url: endpoint });
    let failing = false;
    const exporter: SpanExporter = {
      export: (spans, done) =>
        inner.export(spans, (result) => {
          // 0 is ExportResultCode.SUCCESS
          if (result.code !== 0 && !failing) warn(`OpenTelemetry export to ${endpoint} failed: ${result.error?.message ?? 'unknown error'}`);
          failing = result.code !== 0;
          done(result);
        }),
      shutdown: () => inner.shutdown(),
      forceFlush: () => inner.forceFlush(),
    };
    // The request span takes the client's trace id when it sent a W3C one (and no parent span).
    const ids = { next: null as string | null };
    const random = new sdk.RandomIdGenerator();
    const provider = new sdk.BasicTracerProvider({
      resource: resources.resourceFromAttributes({ 'service.name': 'slipstream', 'service.version': VERSION }),
      idGenerator: {
        generateTraceId: () => {
          const id = ids.next ?? random.generateTraceId();
          ids.next = null;
          return id;
        },
        generateSpanId: () => random.generateSpanId(),
      },
      spanProcessors: [new sdk.BatchSpanProcessor(exporter, { scheduledDelayMillis: options.delayMs ?? 1000, maxQueueSize: 8192, maxExportBatchSize: 512 })],
    });
    return new OtlpExport(api, provider.getTracer('slipstream', VERSION), ids, provider, endpoint);
  }

  /** Queues one request's spans for export (nothing when it has no span tree). */
  export(r: RequestTrace): void {
    if (!r.spans) return;
    const { api } = this;
    let parent: Context = api.ROOT_CONTEXT;
    const traceId = r.client?.traceId;
    if (isW3cTraceId(traceId) && isW3cSpanId(r.client?.spanId)) {
      parent = api.trace.setSpanContext(api.ROOT_CONTEXT, { traceId, spanId: r.client.spanId, traceFlags: api.TraceFlags.SAMPLED, isRemote: true });
    } else if (isW3cTraceId(traceId)) {
      this.ids.next = traceId;
    }
    this.emit(r.spans, parent, r);
    this.ids.next = null;
  }

  private emit(span: TraceSpan, parent: Context, r: RequestTrace): void {
    const { api } = this;
    const root = span.name === 'request';
    const s: Span = this.tracer.startSpan(
      span.name,
      { startTime: hrTime(span.start), kind: root ? api.SpanKind.SERVER : api.SpanKind.INTERNAL, attributes: root ? { ...prefixed(span.attrs), ...requestAttrs(r) } : prefixed(span.attrs) },
      parent,
    );
    if (root && r.outcome === 'error') s.setStatus({ code: api.SpanStatusCode.ERROR, message: r.error ?? 'error' });
    const ctx = api.trace.setSpan(parent, s);
    for (const c of span.children ?? []) this.emit(c, ctx, r);
    s.end(hrTime(span.start + span.dur));
  }

  /** Sends what is queued now. */
  flush(): Promise<void> {
    return this.provider.forceFlush();
  }

  /** Sends what is queued and stops. */
  shutdown(): Promise<void> {
    return this.provider.shutdown();
  }
}
