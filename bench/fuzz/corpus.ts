/**
 * The fuzzer's seed traffic: what `slipstream bench keystrokes --record` wrote (every message an
 * editor stand-in sent while typing through a file), read back and sorted by kind: initialize
 * params (with their settings objects), opened documents, didChange sequences, inline completion
 * and custom requests. `normaliseRecording` makes a recording machine-independent for fixtures/.
 */

export interface RecordedMessage {
  jsonrpc: '2.0';
  id?: number | string;
  method?: string;
  params?: unknown;
}

export interface Corpus {
  initialize: Record<string, unknown>[];
  /** Settings objects: initializationOptions seen in initialize. */
  settings: unknown[];
  documents: { uri: string; languageId: string; text: string }[];
  /** contentChanges arrays of the recorded didChange notifications, in order. */
  changes: unknown[][];
  /** Requests (inline completion, status, traces, ...) as sent, uri included. */
  requests: RecordedMessage[];
  /** Every recorded message, in order. */
  all: RecordedMessage[];
}

export function parseCorpus(jsonl: string): Corpus {
  const all = jsonl
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as RecordedMessage);
  const corpus: Corpus = { initialize: [], settings: [], documents: [], changes: [], requests: [], all };
  for (const m of all) {
    const p = m.params as Record<string, any> | undefined;
    if (m.method === 'initialize') {
      corpus.initialize.push(p ?? {});
      if (p?.initializationOptions !== undefined) corpus.settings.push(p.initializationOptions);
    } else if (m.method === 'textDocument/didOpen') {
      corpus.documents.push({ uri: p!.textDocument.uri, languageId: p!.textDocument.languageId, text: p!.textDocument.text });
    } else if (m.method === 'textDocument/didChange') {
      corpus.changes.push(p!.contentChanges);
    } else if (m.method !== undefined && m.id !== undefined && m.method !== 'shutdown') {
      corpus.requests.push(m);
    }
  }
  if (corpus.initialize.length === 0 || corpus.documents.length === 0) throw new Error('the corpus holds no initialize or no didOpen: record it with `slipstream bench keystrokes --record FILE`');
  return corpus;
}

/**
 * A recording without this machine in it: file URIs under `rootUri` become file:///workspace/...,
 * the client's process id 0.
 */
export function normaliseRecording(jsonl: string, rootUri: string): string {
  const root = rootUri.endsWith('/') ? rootUri.slice(0, -1) : rootUri;
  return jsonl
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const m = JSON.parse(l.split(root).join('file:///workspace')) as RecordedMessage;
      const p = m.params as Record<string, unknown> | undefined;
      if (m.method === 'initialize' && p && typeof p.processId === 'number') p.processId = 0;
      return `${JSON.stringify(m)}\n`;
    })
    .join('');
}
