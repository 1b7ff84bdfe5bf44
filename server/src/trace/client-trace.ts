/**
 * Checks the optional `clientTrace` a client sends with a completion request (protocol.ts
 * ClientTraceParams): each field is kept only when it is well formed, and a keystroke time only
 * when it lies in the last minute (and not ahead of the server's clock by more than a little).
 * Never throws: a malformed field is dropped and named in `problems` for a debug log line.
 */
import type { RequestTrace } from '../protocol.js';

export type ClientTrace = NonNullable<RequestTrace['client']>;

const TRACE_ID = /^[\x21-\x7e]{1,64}$/;
const W3C_TRACE_ID = /^[0-9a-f]{32}$/;
const W3C_SPAN_ID = /^[0-9a-f]{16}$/;
/** A keystroke older than this is not the one this request is about. */
const MAX_AGE_MS = 60_000;
/** Two processes on one machine read one clock; allow this much ahead for rounding. */
const MAX_AHEAD_MS = 50;

/** A W3C trace id (32 lowercase hex digits, not all zero): also usable as an OpenTelemetry trace id. */
export function isW3cTraceId(id: string | undefined): id is string {
  return id !== undefined && W3C_TRACE_ID.test(id) && !/^0+$/.test(id);
}

export function isW3cSpanId(id: string | undefined): id is string {
  return id !== undefined && W3C_SPAN_ID.test(id) && !/^0+$/.test(id);
}

/** The valid part of `raw` (undefined when nothing is), given the time the server received the request. */
export function checkClientTrace(raw: unknown, receivedAt: number): { client: ClientTrace | undefined; problems: string[] } {
  if (raw === undefined || raw === null) return { client: undefined, problems: [] };
  if (typeof raw !== 'object' || Array.isArray(raw)) return { client: undefined, problems: ['clientTrace is not an object'] };
  const o = raw as Record<string, unknown>;
  const client: ClientTrace = {};
  const problems: string[] = [];
  if (o.traceId !== undefined) {
    if (typeof o.traceId === 'string' && TRACE_ID.test(o.traceId)) client.traceId = o.traceId;
    else problems.push('clientTrace.traceId must be 1-64 printable ASCII characters');
  }
  if (o.spanId !== undefined) {
    if (typeof o.spanId === 'string' && isW3cSpanId(o.spanId)) client.spanId = o.spanId;
    else problems.push('clientTrace.spanId must be 16 lowercase hex digits, not all zero');
  }
  if (o.keystrokeAt !== undefined) {
    const k = o.keystrokeAt;
    if (typeof k !== 'number' || !Number.isFinite(k)) problems.push('clientTrace.keystrokeAt must be a number (ms since the epoch)');
    else if (k > receivedAt + MAX_AHEAD_MS || k < receivedAt - MAX_AGE_MS) problems.push(`clientTrace.keystrokeAt is ${Math.round(receivedAt - k)} ms before the request arrived (outside -${MAX_AHEAD_MS}..${MAX_AGE_MS})`);
    else {
      client.keystrokeAt = k;
      client.editorMs = Math.round(Math.max(0, receivedAt - k) * 1000) / 1000;
    }
  }
  return { client: Object.keys(client).length > 0 ? client : undefined, problems };
}
