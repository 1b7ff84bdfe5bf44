/**
 * Settings: their names, defaults, validation and descriptions (the one source of the VS Code
 * extension's declarations and docs/configuration.md's table: settings-manifest.ts). Sources merge in this order, later wins:
 * defaults < command-line flags < `initializationOptions` < `workspace/configuration` (section
 * `slipstream`). Every source may be nested (`{completion: {debounceMs}}`), wrapped in
 * `{slipstream: …}`, or use dotted keys (`"slipstream.completion.debounceMs"`). Invalid values are
 * ignored with a warning naming the setting; they never stop the server. Names the client sends
 * are looked up as own properties only, so `toString` or `__proto__` is just an unknown setting.
 * See docs/configuration.md.
 */

import { resolve as resolvePath, sep } from 'node:path';

export type Backend = 'auto' | 'cpu' | 'cuda' | 'remote';
export type RemoteApi = 'openai' | 'llama-server';
export type MultilinePolicy = 'auto' | 'always' | 'never';
/** 'auto': ReDrafter when a drafter is loaded and a calibration at load shows it pays, else 'ar'. */
export type DecodeMode = 'auto' | 'ar' | 'redrafter';
export type WeightFormat = 'bf16' | 'q8_0' | 'q4_0';

export interface Settings {
  engine: {
    /** Hugging Face model folder; '' = the shipped default model (default-model.ts). */
    model: string;
    /** ReDrafter head folder; '' = the shipped drafter with the default model, else none. */
    drafter: string;
    backend: Backend;
    mode: DecodeMode;
    /** ReDrafter's tree: beams M and beam length L; 0 = auto (mode-calibration.ts decideMode). */
    beams: number;
    beamLength: number;
    /** Draft tokens per round looked up in the prompt and the output (0 = off; docs/engine.md, "Lookup drafts"). */
    promptLookup: number;
    /** CPU threads; 0 = engine default. */
    threads: number;
    /** How the model's matrices are kept in memory: as stored, or quantized at load (docs/engine.md). */
    weights: WeightFormat;
    /** A serving engine over HTTP, used when backend is 'remote' (docs/team.md). */
    remote: {
      /** Base URL, e.g. http://gpu-box:8000 ('' = none). */
      url: string;
      api: RemoteApi;
      /** The `model` field of OpenAI requests ('' = the first model the server's GET /v1/models lists). */
      model: string;
      /** Name of the environment variable holding the API key ('' = no key); the key itself is never a setting. */
      apiKeyEnv: string;
      /** Longest wait for the response and for each next event of its stream. */
      timeoutMs: number;
      /** Send the prompt as token ids (exact) or as text with the special tokens spelled out. */
      prompt: 'ids' | 'text';
    };
  };
  completion: {
    enabled: boolean;
    /** Upper bound of the adaptive debounce, in ms (0 disables debouncing). */
    debounceMs: number;
    maxTokens: number;
    multiline: MultilinePolicy;
    /** Prompt budget in tokens (prefix + suffix + snippets). */
    contextTokens: number;
    /** Share of the budget the suffix may use (0..1). */
    suffixShare: number;
    /** PSM fill-in-the-middle prompts: the lines being typed at the middle's start or the prefix's end (context.ts). */
    psmTypedLines: 'middle' | 'prefix';
    /** Add snippets from other open documents of the same language. */
    snippets: boolean;
    /** Back the prompt off by the cursor's partial token and require the output to rewrite it (token-healing.ts). */
    tokenHealing: boolean;
    temperature: number;
    /**
     * Automatic suggestions end before the first token the model gave less than this probability,
     * and one cut to fewer than UNSURE_MIN_CHARS characters on its first line is not shown
     * (confidence.ts); 0: off.
     */
    minTokenProbability: number;
    /**
     * An automatic suggestion still generating this long after its request arrived is answered with
     * the text so far once it is worth showing; the rest goes to the suggestion cache (time-budget.ts). 0: off.
     */
    timeBudgetMs: number;
    /** Suggestions offered for an explicitly invoked completion: the first as always, the rest sampled (alternatives.ts). */
    alternatives: number;
  };
  trace: {
    /** How many per-request traces `slipstream/traces` keeps. */
    capacity: number;
    /** Record each request's span tree (off: only totals and outcomes). */
    spans: boolean;
    /** Append every trace as one JSON line to this file ('' = off). */
    file: string;
    /** The file is rotated (to FILE.1) when it would exceed this many KiB. */
    fileMaxKB: number;
    /** OTLP/HTTP endpoint for OpenTelemetry export ('' = off). */
    otlpEndpoint: string;
  };
  /** Cross-keystroke reuse (issue 14): the suggestion cache, extra drafts, attachment, the engine's KV. */
  cache: {
    /** Off: no reuse across keystrokes at all (the cold baseline, for comparisons). */
    enabled: boolean;
    /** Bound of the engine sessions' KV bytes in MiB (least recently used sessions out). */
    kvBudgetMB: number;
    /** Compute what follows a shown suggestion's acceptance while the engine is idle (prefetch.ts). */
    prefetch: boolean;
  };
  log: { level: LogLevelName };
}

export type LogLevelName = 'error' | 'warn' | 'info' | 'debug';

export function defaultSettings(): Settings {
  return {
    engine: { model: '', drafter: '', backend: 'auto', mode: 'auto', beams: 0, beamLength: 0, promptLookup: 4, threads: 0, weights: 'bf16', remote: { url: '', api: 'openai', model: '', apiKeyEnv: '', timeoutMs: 10_000, prompt: 'ids' } },
    completion: {
      enabled: true,
      debounceMs: 75,
      maxTokens: 48,
      multiline: 'auto',
      contextTokens: 1024,
      suffixShare: 0.25,
      psmTypedLines: 'middle',
      snippets: true,
      tokenHealing: true,
      temperature: 0,
      minTokenProbability: 0.1,
      timeBudgetMs: 250,
      alternatives: 3,
    },
    trace: { capacity: 200, spans: true, file: '', fileMaxKB: 16384, otlpEndpoint: '' },
    cache: { enabled: true, kvBudgetMB: 256, prefetch: true },
    log: { level: 'info' },
  };
}

type Check = (v: unknown) => boolean;

/** The JSON-schema shape of a setting (what an editor's settings UI shows). */
export interface SettingSchema {
  type: 'string' | 'boolean' | 'integer' | 'number';
  enum?: string[];
  minimum?: number;
  maximum?: number;
}

interface Kind {
  check: Check;
  /** Said in the warning when a value is rejected. */
  expect: string;
  schema: SettingSchema;
}

/**
 * Who sets it on a shared daemon (`serve --port`, many clients, one engine): 'engine' settings
 * come only from the daemon's own flags and --config file (a client's value is ignored with a
 * warning); 'client' settings are each connection's own. Over stdio (one editor) both are the
 * client's, as before.
 */
export type SettingScope = 'engine' | 'client';

export interface SettingSpec extends Kind {
  description: string;
  scope: SettingScope;
  /**
   * Names a program or a path: taken only from the user's own settings, never from a workspace's
   * (VS Code scope "machine"), so opening a repository cannot choose what runs or what is read.
   */
  machine?: boolean;
  /** A rejected value is never repeated in the warning (someone may paste a key there). */
  secret?: boolean;
}

const text = (expect: string): Kind => ({ check: (v) => typeof v === 'string', expect, schema: { type: 'string' } });
const bool: Kind = { check: (v) => typeof v === 'boolean', expect: 'true or false', schema: { type: 'boolean' } };
const intIn = (min: number, max: number): Kind => ({
  check: (v) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max,
  expect: `an integer ${min}..${max}`,
  schema: { type: 'integer', minimum: min, maximum: max },
});
/** 0 (auto) or an integer min..max; the schema says 0..max and the check refuses 1..min-1. */
const zeroOrIntIn = (min: number, max: number): Kind => ({
  check: (v) => typeof v === 'number' && Number.isInteger(v) && (v === 0 || (v >= min && v <= max)),
  expect: `0 or an integer ${min}..${max}`,
  schema: { type: 'integer', minimum: 0, maximum: max },
});
const numIn = (min: number, max: number): Kind => ({
  check: (v) => typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max,
  expect: `a number ${min}..${max}`,
  schema: { type: 'number', minimum: min, maximum: max },
});
const oneOf = (...values: string[]): Kind => {
  const quoted = values.map((v) => `"${v}"`);
  return {
    check: (v) => typeof v === 'string' && values.includes(v),
    expect: `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}`,
    schema: { type: 'string', enum: values },
  };
};
const httpUrl: Kind = {
  check: (v) => typeof v === 'string' && (v === '' || (/^https?:\/\//.test(v) && URL.canParse(v))),
  expect: 'an http:// or https:// URL',
  schema: { type: 'string' },
};

/**
 * Every setting, by its dotted name under `slipstream.`: what a valid value is and what it does.
 * The one source of the settings' descriptions: the VS Code extension's declarations and the table
 * in docs/configuration.md are generated from it (settings-manifest.ts, npm run gen:settings).
 */
export const SETTINGS_SPEC: Record<string, SettingSpec> = {
  'engine.model': { scope: 'engine',
    ...text('a folder path'),
    machine: true,
    description: 'Hugging Face model folder (config.json, *.safetensors, tokenizer.json). Empty: the shipped default model. A configured model that cannot be loaded is an error shown to the user, never replaced by the default.',
  },
  'engine.drafter': { scope: 'engine',
    ...text('a folder path'),
    machine: true,
    description: 'ReDrafter head folder for the model. Empty: the shipped drafter when the model is the shipped default, else none.',
  },
  'engine.backend': { scope: 'engine',
    ...oneOf('auto', 'cpu', 'cuda', 'remote'),
    description: 'Compute backend; "auto" picks the best available (this build runs models on the CPU). "remote": an existing serving engine over HTTP (engine.remote.*; docs/team.md).',
  },
  'engine.mode': { scope: 'engine',
    ...oneOf('auto', 'ar', 'redrafter'),
    description: '"auto": ReDrafter speculative decoding when a drafter is loaded and a short calibration at load shows it is faster for this model on this machine, else plain decoding. "ar": always plain decoding. "redrafter": always ReDrafter (needs a drafter).',
  },
  'engine.beams': { scope: 'engine',
    ...intIn(0, 64),
    description: 'ReDrafter\'s tree width: beams drafted per step (M). 0: under engine.mode "auto" the fastest shape of the calibration at load, under "redrafter" the drafter\'s default (1 on a CPU). Greedy output is the same whatever the shape; only the speed differs (docs/configuration.md).',
  },
  'engine.beamLength': { scope: 'engine',
    ...zeroOrIntIn(2, 16),
    description: 'ReDrafter\'s tree depth: tokens per beam (L), the guaranteed one included: 2..16 (1 would draft nothing and is refused). 0: under engine.mode "auto" the fastest shape of the calibration at load, under "redrafter" the drafter\'s default (3 on a CPU).',
  },
  'engine.promptLookup': { scope: 'engine',
    ...intIn(0, 63),
    description: 'Prompt lookup, for decoding without a drafter (no drafter loaded, or engine.mode "auto" chose plain decoding): each step, the last 2-4 tokens are looked up earlier in the prompt and the suggestion so far (the text after the cursor, code that repeats), and up to this many of the tokens that followed them are verified in the same forward pass as the next token. The suggestion is the same token for token; it only comes sooner when text repeats. Runs where a forward of that many rows plus one was measured at load to cost at most 1.75x one row (docs/configuration.md, "Prompt lookup"). Local engine only; not under engine.mode "ar" nor in ReDrafter\'s rounds. 0: off.',
  },
  'engine.threads': { scope: 'engine', ...intIn(0, 256), description: 'CPU threads; 0: one per physical core of the CPUs the server may run on (its affinity mask, e.g. taskset), at most what a cgroup CPU quota grants (a container\'s --cpus).' },
  'engine.weights': { scope: 'engine',
    ...oneOf('bf16', 'q8_0', 'q4_0'),
    description: 'How the model\'s matrices are kept in memory. "bf16": as stored. "q8_0" / "q4_0": quantized at load to 8-bit / 4-bit blocks of 32 with one scale (llama.cpp\'s Q8_0 / Q4_0; the output head to q8_0), about 1.9x / 2.9x less memory read per token than bf16, at some accuracy cost (docs/performance.md).',
  },
  'engine.remote.url': { scope: 'engine',
    ...httpUrl,
    machine: true,
    description: 'With engine.backend "remote": the serving engine\'s base URL (e.g. http://127.0.0.1:8080). The prompt is still built locally with the tokenizer of engine.model.',
  },
  'engine.remote.api': { scope: 'engine', ...oneOf('openai', 'llama-server'), description: '"openai": POST /v1/completions (vLLM, SGLang, trtllm-serve, llama-server). "llama-server": llama.cpp\'s /completion with cache_prompt.' },
  'engine.remote.model': { scope: 'engine', ...text('a model name'), description: 'Model name sent to the remote server. Empty: the first one its /v1/models lists.' },
  'engine.remote.apiKeyEnv': { scope: 'engine',
    check: (v) => typeof v === 'string' && /^([A-Za-z_][A-Za-z0-9_]*)?$/.test(v),
    expect: 'the name of an environment variable',
    schema: { type: 'string' },
    machine: true,
    secret: true,
    description: 'Name of the environment variable of the server process that holds the API key (sent as a Bearer token). The key itself is never a setting and never logged.',
  },
  'engine.remote.timeoutMs': { scope: 'engine', ...intIn(100, 600_000), description: 'Time allowed for the remote server\'s first byte and between stream events, in ms.' },
  'engine.remote.prompt': { scope: 'engine', ...oneOf('ids', 'text'), description: '"ids": send the prompt as token ids (exact); "text": as text with the special tokens written out.' },
  'completion.enabled': { scope: 'client', ...bool, description: 'Off: every request answers no items.' },
  'completion.debounceMs': { scope: 'client',
    ...intIn(0, 5000),
    description: 'Upper bound of the adaptive debounce for automatic triggers: the delay is the smaller of the typing interval (x1.25) and the engine\'s recent latency. 0 turns it off.',
  },
  'completion.maxTokens': { scope: 'client', ...intIn(1, 1024), description: 'Tokens generated at most per suggestion.' },
  'completion.multiline': { scope: 'client',
    ...oneOf('auto', 'always', 'never'),
    description: '"auto": several lines only when the cursor ends its line (mid-line suggestions are one line unless they end with the rest of the line).',
  },
  'completion.contextTokens': { scope: 'client', ...intIn(16, 32768), description: 'Prompt budget in tokens (prefix + suffix + snippets), also capped by the model\'s context.' },
  'completion.suffixShare': { scope: 'client', ...numIn(0, 0.9), description: 'Share of the prompt budget for the text after the cursor (fill-in-the-middle models).' },
  'completion.psmTypedLines': { scope: 'client',
    ...oneOf('middle', 'prefix'),
    description:
      'For models whose fill-in-the-middle order is prefix, suffix, middle (PSM: Qwen2.5-Coder, DeepSeek-Coder, StarCoder; not the shipped model, which is SPM): where the prompt puts the lines being typed, from a line start up to 1024 characters before the cursor. "middle": after the suffix, as the start of the middle, so typing at the cursor only appends to the prompt and the engine (or a remote server\'s prompt cache) keeps the suffix\'s work from one keystroke to the next. "prefix": at the end of the prefix, the standard layout, where every keystroke recomputes the suffix.',
  },
  'completion.snippets': { scope: 'client', ...bool, description: 'Add snippets from other open documents of the same language when budget remains.' },
  'completion.tokenHealing': { scope: 'client', ...bool, description: 'Token healing: when the cursor ends inside a token (a run of spaces, part of a word), back the prompt off by that token and make the suggestion start with its text, so it continues the way the model was trained. Local engine only (a remote engine cannot constrain decoding).' },
  'completion.temperature': { scope: 'client', ...numIn(0, 2), description: 'Sampling temperature; 0 is greedy.' },
  'completion.minTokenProbability': { scope: 'client',
    ...numIn(0, 1),
    description: 'Fewer, surer suggestions while typing: an automatic suggestion ends before the first token the model gives less than this probability, and one cut to fewer than 6 characters on its first line is not shown. Asking explicitly (Alt+\\) always gets the whole suggestion. 0: off. A remote engine asks its server for the probabilities (llama-server\'s n_probs, the OpenAI API\'s logprobs: llama-server, vLLM); one that reports none is not cut.',
  },
  'completion.timeBudgetMs': { scope: 'client',
    ...intIn(0, 60000),
    description: 'Ghost text without waiting for the whole suggestion: when an automatic suggestion is still being generated this many ms after the request arrived, the part written so far is shown as soon as it is worth showing (a whole first line, or 6 characters of it); the generation finishes in the background (ended by any other request) and typing on or accepting gets the rest from the cache at once. Asking explicitly (Alt+\\) always waits for the whole suggestion. 0: off (always wait).',
  },
  'completion.alternatives': { scope: 'client',
    ...intIn(1, 5),
    description: 'Suggestions offered when a completion is asked for explicitly (VS Code: Trigger Inline Suggestion, Alt+\\; cycle them with Alt+] and Alt+[): the usual one first, then up to this many minus one sampled at temperature 0.8 with fixed seeds, each distinct. 1: only the usual one. Typing as usual (automatic requests) always gets one.',
  },
  'trace.capacity': { scope: 'client', ...intIn(0, 100000), description: 'Per-request traces kept for slipstream/traces.' },
  'trace.spans': { scope: 'client',
    ...bool,
    description: 'Record each request\'s span tree: every stage, engine step and decode round with its time (docs/tracing.md). Off: traces keep only the total, the outcome and the token counts (in the trace file too), and nothing goes to OpenTelemetry.',
  },
  'trace.file': { scope: 'client', ...text('a file path'), machine: true, description: 'Append every request trace (with its spans) as one JSON line to this file; `slipstream trace FILE` summarises and draws it. Empty: off. On a shared daemon (`serve --port`): only a file inside the daemon\'s state directory (a relative path is taken from there); any other is ignored.' },
  'trace.fileMaxKB': { scope: 'client', ...intIn(1, 4194304), description: 'When the trace file would grow past this many KiB it is renamed to FILE.1 (replacing the previous one) and a new file begins.' },
  'trace.otlpEndpoint': { scope: 'engine',
    ...httpUrl,
    machine: true,
    description: 'Export every request\'s spans to this OpenTelemetry OTLP/HTTP traces endpoint, e.g. http://localhost:4318/v1/traces (headers from OTEL_EXPORTER_OTLP_HEADERS). Empty: off, and nothing is sent anywhere.',
  },
  'cache.enabled': {
    scope: 'engine',
    ...bool,
    description: 'Reuse work across keystrokes: answer from the suggestion cache when typing through a suggestion, offer a diverged suggestion\'s rest to the engine as extra drafts, let a request wait for a running generation it extends, keep each document\'s KV cache and share KV blocks of common prompt prefixes across documents in the engine\'s block pool. Off: every request starts cold (for comparisons); suggestions the engine computes are the same either way.',
  },
  'cache.kvBudgetMB': { scope: 'engine', ...intIn(1, 65536), description: 'Bound of the engine\'s KV memory, in MiB: half for the per-document sessions (least recently used sessions are dropped to stay under it, never one in use), half for the engine\'s shared block pool (16-token blocks of prompt prefixes, least recently used unheld blocks evicted).' },
  'cache.prefetch': {
    scope: 'engine',
    ...bool,
    description: 'While the engine is idle after a suggestion is shown, compute the suggestion that follows its acceptance, so accepting answers the next request from the suggestion cache. Abandoned the moment any request reaches the engine; never run against a remote engine. Off with cache.enabled off.',
  },
  'log.level': { scope: 'client', ...oneOf('error', 'warn', 'info', 'debug'), description: 'What goes to the log (window/logMessage).' },
};

/** The default of a setting by its dotted name. */
export function defaultOf(name: string): unknown {
  return name.split('.').reduce<unknown>((obj, key) => (obj as Record<string, unknown>)[key], defaultSettings());
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `source[key]` when source is an object that has it as an own property (never an inherited one). */
export function ownField(source: unknown, key: string): unknown {
  return isObject(source) && Object.hasOwn(source, key) ? source[key] : undefined;
}

/** Flattens one settings source into dotted names relative to `slipstream.`. */
export function flattenSettings(source: unknown): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (!isObject(source)) return out;
  const walk = (obj: Record<string, unknown>, prefix: string): void => {
    for (const [key, value] of Object.entries(obj)) {
      const name = prefix ? `${prefix}.${key}` : key;
      if (isObject(value)) walk(value, name);
      else out.set(name, value);
    }
  };
  walk(source, '');
  const result = new Map<string, unknown>();
  for (const [name, value] of out) result.set(name.startsWith('slipstream.') ? name.slice('slipstream.'.length) : name, value);
  return result;
}

/**
 * Applies one source onto `base` (not modified) and returns the result plus a warning per
 * rejected value. Unknown names are reported too, so typos are visible.
 */
export function applySettings(base: Settings, source: unknown, shared?: SharedPolicy): { settings: Settings; warnings: string[] } {
  const settings = structuredClone(base);
  const warnings: string[] = [];
  for (let [name, value] of flattenSettings(source)) {
    const spec = Object.hasOwn(SETTINGS_SPEC, name) ? SETTINGS_SPEC[name] : undefined;
    // slipstream.server.* are the editor client's own settings (how to start this server); a
    // client that sends its whole section sends them too
    if (!spec && name.startsWith('server.')) continue;
    if (!spec) {
      warnings.push(`unknown setting slipstream.${name} ignored`);
      continue;
    }
    if (value === null || value === undefined) continue;
    if (!spec.check(value)) {
      warnings.push(`setting slipstream.${name}${spec.secret ? '' : ` = ${JSON.stringify(value)}`} ignored: expected ${spec.expect}`);
      continue;
    }
    if (shared && spec.scope === 'engine') {
      warnings.push(`setting slipstream.${name} ignored: on a shared daemon engine settings are the daemon's own (its flags and --config file), never a client's`);
      continue;
    }
    if (shared && name === 'trace.file' && value !== '') {
      const inside = traceFileInside(shared.stateDir, value as string);
      if (inside === null) {
        warnings.push(`setting slipstream.trace.file ignored: on a shared daemon a trace file must be inside the daemon's state directory ${shared.stateDir}`);
        continue;
      }
      value = inside;
    }
    const path = name.split('.');
    const group = path.slice(0, -1).reduce<Record<string, unknown>>((obj, key) => obj[key] as Record<string, unknown>, settings as unknown as Record<string, unknown>);
    group[path[path.length - 1]!] = value;
  }
  return { settings, warnings };
}

/** A shared daemon's rules for what its clients may set (SettingSpec.scope, trace file place). */
export interface SharedPolicy {
  /** The daemon's state directory (absolute): trace files of clients go only inside it. */
  stateDir: string;
}

/** `file` resolved against `dir` when the result lies strictly inside `dir`, else null. */
export function traceFileInside(dir: string, file: string): string | null {
  const root = resolvePath(dir);
  const full = resolvePath(root, file);
  return full.startsWith(root + sep) ? full : null;
}

/** True when a change between the two settings needs the model reloaded. */
export function engineChanged(a: Settings, b: Settings): boolean {
  return (
    a.engine.model !== b.engine.model ||
    a.engine.drafter !== b.engine.drafter ||
    a.engine.backend !== b.engine.backend ||
    a.engine.threads !== b.engine.threads ||
    a.engine.weights !== b.engine.weights ||
    JSON.stringify(a.engine.remote) !== JSON.stringify(b.engine.remote)
  );
}

/** The merged settings of one connection, rebuilt whenever a source changes. */
export class ConfigStore {
  private layers: unknown[] = [];
  private current: Settings;
  private readonly listeners: ((next: Settings, prev: Settings) => void)[] = [];

  constructor(
    private readonly base: Settings,
    private readonly warn: (message: string) => void,
    /** Set on a shared daemon's connections: engine settings and outside trace files are refused. */
    private readonly shared?: SharedPolicy,
  ) {
    this.current = base;
  }

  get settings(): Settings {
    return this.current;
  }

  onChange(listener: (next: Settings, prev: Settings) => void): void {
    this.listeners.push(listener);
  }

  /** Sets source number `layer` (0 = initializationOptions, 1 = workspace/configuration). */
  set(layer: number, source: unknown): void {
    this.layers[layer] = source;
    let s = this.base;
    for (const l of this.layers) {
      if (l === undefined) continue;
      const r = applySettings(s, l, this.shared);
      s = r.settings;
      if (l === source) for (const w of r.warnings) this.warn(w);
    }
    const prev = this.current;
    this.current = s;
    if (JSON.stringify(prev) !== JSON.stringify(s)) for (const f of this.listeners) f(s, prev);
  }
}
