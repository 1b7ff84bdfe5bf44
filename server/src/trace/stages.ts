/**
 * The names a trace uses, in pipeline order, and one colour for each: the SVG and HTML reports,
 * the VS Code report and the legend in docs/tracing.md all take their colours from here, so a
 * stage looks the same everywhere. Names and colours only; what each means is in docs/tracing.md.
 */
import type { Stage, SubSpan } from '../protocol.js';

/** The stages of a request (children of its `request` span), in the order they run. */
export const STAGES: readonly Stage[] = ['receive', 'cache', 'debounce', 'load', 'context', 'tokenize', 'queue', 'prefill', 'decode', 'postprocess', 'alternatives', 'respond'];

/** The editor's share (keystroke to the server's receipt), when the client sent its keystroke time. */
export const EDITOR = 'editor';

export type Drawn = Stage | SubSpan | typeof EDITOR | 'request';

/** Colour of each span name (Okabe-Ito where it has enough, then distinct neighbours). */
export const COLORS: Record<Drawn, string> = {
  request: '#4d4d4d',
  editor: '#999999',
  receive: '#8c6bb1',
  cache: '#f781bf',
  debounce: '#c9c9c9',
  load: '#8c510a',
  context: '#56b4e9',
  tokenize: '#0072b2',
  queue: '#d55e00',
  prefill: '#e69f00',
  decode: '#009e73',
  postprocess: '#cc79a7',
  alternatives: '#6a3d9a',
  respond: '#e6d800',
  round: '#009e73',
  draft: '#74c7a9',
  verify: '#00664a',
  accept: '#b8e0c9',
  ttfb: '#f5c26b',
};

export function colorOf(name: string): string {
  return (COLORS as Record<string, string>)[name] ?? '#777777';
}

/**
 * The stage a request that ended early was in, given the last stage it finished: the next one on
 * the way to an answer, except after the engine's stages (ended when the generation ends, also
 * when it is cancelled) and respond, where it is that stage itself (its way out).
 */
export function stageAfter(stage: Stage | null): Stage {
  switch (stage) {
    case null:
      return 'receive';
    case 'receive':
      return 'cache';
    case 'cache':
      return 'debounce';
    case 'debounce':
      return 'load';
    case 'load':
      return 'context';
    case 'context':
    case 'tokenize':
    case 'queue':
      return 'prefill';
    case 'prefill':
    case 'decode':
    case 'respond':
      return stage;
    default:
      return 'respond';
  }
}
