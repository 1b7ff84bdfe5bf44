/**
 * `slipstream/status` and `slipstream/traces`: what the engine has loaded, the backends, the
 * engine's and the process's memory, cache and latency figures, request outcomes, accept events
 * and retention, and the ring of per-request traces (by id, document, time).
 */
import type { ServerCapabilities } from 'vscode-languageserver';
import type { CompletionFeature } from './completion/feature.js';
import type { Feature, ServerContext } from './feature.js';
import type { StatusResult, TracesParams, TracesResult } from './protocol.js';
import { VERSION } from './version.js';

export class StatusFeature implements Feature {
  readonly name = 'status';

  constructor(
    private readonly ctx: ServerContext,
    private readonly completion: CompletionFeature,
  ) {}

  initialize(): ServerCapabilities {
    return { experimental: { slipstream: { methods: ['slipstream/status', 'slipstream/complete', 'slipstream/traces'] } } };
  }

  status(): StatusResult {
    const host = this.completion.host.status();
    const { provider, traces, events } = this.completion;
    const m = host.model;
    const fim = m ? m.tokenizer.tokenId('<|fim_middle|>') !== undefined || m.tokenizer.tokenId('<fim_middle>') !== undefined : false;
    return {
      version: VERSION,
      engine: {
        state: host.state,
        model: m
          ? {
              dir: m.dir, source: host.modelSource ?? 'configured', architecture: m.architecture, vocabSize: m.vocabSize, numLayers: m.numLayers, hiddenSize: m.hiddenSize, fim,
              ...(m.compute ? { compute: { ...m.compute } } : {}),
            }
          : null,
        drafter: host.drafterDir ? { dir: host.drafterDir, source: host.drafterSource === 'default' ? 'default' : 'configured' } : null,
        backend: host.backend,
        backendInUse: host.backendInUse ?? null,
        mode: host.mode,
        modeSetting: host.modeSetting ?? host.mode,
        modeDecision: host.modeDecision ? { reason: host.modeDecision.reason, shape: host.modeDecision.shape, calibration: host.modeDecision.calibration } : null,
        lookup: host.lookup ?? null,
        backends: host.backends,
        error: host.error,
        sessions: host.sessions,
        ...(host.remote ? { remote: host.remote } : {}),
        memory: host.memory ?? null,
      },
      process: processFigures(),
      cache: {
        hits: provider.suggestions.hits,
        misses: provider.suggestions.misses,
        enabled: this.ctx.config.settings.cache.enabled,
        kv: host.kv ?? null,
        suggestions: { entries: provider.suggestions.size, hits: provider.suggestions.hits, misses: provider.suggestions.misses },
        drafts: { offered: provider.figures.draftsOffered, accepted: provider.figures.draftsAccepted },
        attached: provider.figures.attached,
        prefetched: { computed: provider.figures.prefetched, used: provider.figures.prefetchUsed, abandoned: provider.figures.prefetchAbandoned },
      },
      timeBudget: { answered: provider.figures.earlyAnswered, finished: provider.figures.earlyFinished },
      latency: traces.latency(),
      requests: { ...traces.counts },
      events: { ...events.counts, retention: this.completion.retention.figuresNow },
      documents: this.ctx.documents.size,
      documentBytes: this.ctx.documents.bytes,
      documentLimits: { ...this.ctx.documents.limits },
    };
  }

  traces(params: TracesParams | null | undefined): TracesResult {
    // params were checked against their schema at the boundary (lsp-params.ts)
    const p = params ?? {};
    const after = p.after ?? 0;
    const limit = p.limit ?? Infinity;
    const traces = this.completion.traces.traces({ after, limit, ...(p.uri !== undefined ? { uri: p.uri } : {}), ...(p.since !== undefined ? { since: p.since } : {}) });
    return { capacity: this.completion.traces.capacity, traces };
  }
}

function processFigures(): StatusResult['process'] {
  const m = process.memoryUsage();
  return { rssBytes: m.rss, heapUsedBytes: m.heapUsed, externalBytes: m.external, uptimeS: Math.round(process.uptime()) };
}
