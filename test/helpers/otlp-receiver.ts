/**
 * A local OTLP/HTTP traces receiver for tests: an HTTP server on 127.0.0.1 that records every
 * POST to /v1/traces and decodes its JSON body (the OTLP JSON encoding the exporter sends) into
 * flat spans with their ids, parent, times and attributes. Answers 200 with an empty
 * ExportTraceServiceResponse. Tests only.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  startMs: number;
  endMs: number;
  attributes: Record<string, string | number | boolean>;
  status?: { code?: number; message?: string };
  service: string;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}

function value(v: OtlpValue): string | number | boolean {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  throw new Error(`unexpected OTLP value ${JSON.stringify(v)}`);
}

const attrs = (list: { key: string; value: OtlpValue }[] | undefined): Record<string, string | number | boolean> =>
  Object.fromEntries((list ?? []).map((a) => [a.key, value(a.value)]));

export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly posts: { path: string; contentType: string }[] = [];
  private readonly server: Server;
  private waiters: (() => void)[] = [];

  private constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.posts.push({ path: req.url ?? '', contentType: String(req.headers['content-type'] ?? '') });
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          resourceSpans: { resource: { attributes: { key: string; value: OtlpValue }[] }; scopeSpans: { spans: Record<string, unknown>[] }[] }[];
        };
        for (const rs of body.resourceSpans) {
          const service = String(attrs(rs.resource.attributes)['service.name']);
          for (const ss of rs.scopeSpans) {
            for (const s of ss.spans) {
              this.spans.push({
                traceId: s.traceId as string,
                spanId: s.spanId as string,
                parentSpanId: (s.parentSpanId as string | undefined) ?? '',
                name: s.name as string,
                kind: s.kind as number,
                startMs: Number(BigInt(s.startTimeUnixNano as string) / 1000n) / 1000,
                endMs: Number(BigInt(s.endTimeUnixNano as string) / 1000n) / 1000,
                attributes: attrs(s.attributes as { key: string; value: OtlpValue }[]),
                ...(s.status ? { status: s.status as ReceivedSpan['status'] } : {}),
                service,
              });
            }
          }
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
        for (const w of this.waiters.splice(0)) w();
      });
    });
  }

  static async start(): Promise<OtlpReceiver> {
    const r = new OtlpReceiver();
    await new Promise<void>((resolve) => r.server.listen(0, '127.0.0.1', resolve));
    return r;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1/traces`;
  }

  /** Resolves once `n` spans have arrived (rejects after `ms`). */
  async waitFor(n: number, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.spans.length < n) {
      if (Date.now() > deadline) throw new Error(`the receiver got ${this.spans.length} spans, expected ${n}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100).unref();
      });
    }
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}
