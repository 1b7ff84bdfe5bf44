/**
 * SYNTHETIC request traces for unit tests of the trace readers, exporters and reports: made by the
 * real Trace class (trace/request-trace.ts) with stage ends and engine steps at chosen times, so
 * they have the shape a real request has (contiguous stages, rounds under decode, draft / verify /
 * accept under a round) with known numbers. Not measurements; e2e tests trace real requests.
 */
import type { RequestTrace } from '../../server/src/protocol.js';
import { Trace } from '../../server/src/trace/request-trace.js';

export interface Synthetic {
  id: number;
  uri?: string;
  /** Receipt time, ms since the epoch. */
  at: number;
  /** ms per stage, in pipeline order; absent stages do not run. */
  debounce?: number;
  prefill?: number;
  /** ms of each decode round. */
  rounds?: number[];
  /** Give the rounds engine figures (tree size, accepted, draft / verify / accept ms). */
  roundStats?: boolean;
  cached?: boolean;
  keystrokeBefore?: number;
  outcome?: RequestTrace['outcome'];
  /** An invoked request whose alternatives took this many ms (an `alternatives` stage before respond). */
  alternatives?: number;
}

/** One synthetic trace (finished at its last stage's end plus 0.05 ms of respond). */
export function syntheticTrace(s: Synthetic): RequestTrace {
  const t = new Trace({
    id: s.id,
    uri: s.uri ?? 'file:///w/src/a.ts',
    version: s.id,
    trigger: s.alternatives !== undefined ? 'invoked' : 'automatic',
    receivedAt: s.at,
    spans: true,
    ...(s.keystrokeBefore !== undefined ? { client: { traceId: `t${s.id}`, keystrokeAt: s.at - s.keystrokeBefore, editorMs: s.keystrokeBefore } } : {}),
  });
  let now = s.at;
  const end = (stage: Parameters<Trace['stageAt']>[0], ms: number, attrs?: Record<string, number | string>): void => {
    now += ms;
    t.stageAt(stage, now, attrs);
  };
  end('receive', 0.1);
  end('cache', 0.01, { hit: s.cached ? 'typing' : 'none' });
  if (!s.cached) {
    end('debounce', s.debounce ?? 0, { delayMs: s.debounce ?? 0 });
    end('load', 0.02);
    end('context', 0.5);
    t.split('tokenize', 0.3);
    end('queue', 0.05);
    const first = now + (s.prefill ?? 5);
    t.step({ kind: 'prefill', start: now, end: first, tokens: 1 });
    end('prefill', s.prefill ?? 5, { reusedTokens: 100, computedTokens: 20 });
    let at = now;
    (s.rounds ?? [2, 2]).forEach((ms) => {
      const stats = s.roundStats ? { treeSize: 9, accepted: 1, draftMs: ms * 0.3, verifyMs: ms * 0.5, acceptMs: ms * 0.1, stepMs: ms * 0.9 } : undefined;
      t.step({ kind: 'redrafter', start: at, end: at + ms, tokens: 2, ...(stats ? { stats } : {}) });
      at += ms + 0.01;
    });
    end('decode', at - now, { tokens: 2 * (s.rounds ?? [2, 2]).length });
    end('postprocess', 0.1);
  }
  if (s.alternatives !== undefined) end('alternatives', s.alternatives, { asked: 2, offered: 2 });
  end('respond', 0.05);
  return t.finish(s.outcome ?? (s.cached ? 'cached' : 'shown'), undefined, now);
}
