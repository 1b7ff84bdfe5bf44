/**
 * Settings: their names, defaults and validation. Sources merge in this order, later wins:
 * defaults < command-line flags < `initializationOptions` < `workspace/configuration` (section
 * `slipstream`). Every source may be nested (`{completion: {debounceMs}}`), wrapped in
 * `{slipstream: …}`, or use dotted keys (`"slipstream.completion.debounceMs"`). Invalid values are
 * ignored with a warning naming the setting; they never stop the server. Names the client sends
 * are looked up as own properties only, so `toString` or `__proto__` is just an unknown setting.
 * See docs/configuration.md.
 */

export type Backend = 'auto' | 'cpu' | 'cuda';
export type MultilinePolicy = 'auto' | 'always' | 'never';
export type DecodeMode = 'ar' | 'redrafter';

export interface Settings {
  engine: {
    /** Hugging Face model folder; '' = none configured. */
    model: string;
    /** ReDrafter head folder; '' = plain decoding. */
    drafter: string;
    backend: Backend;
    mode: DecodeMode;
    /** CPU threads; 0 = engine default. */
    threads: number;
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
    /** Add snippets from other open documents of the same language. */
    snippets: boolean;
    temperature: number;
  };
  trace: {
    /** How many per-request traces `slipstream/traces` keeps. */
    capacity: number;
    /** Append every trace as one JSON line to this file ('' = off). */
    file: string;
  };
  log: { level: LogLevelName };
}

export type LogLevelName = 'error' | 'warn' | 'info' | 'debug';

export function defaultSettings(): Settings {
  return {
    engine: { model: '', drafter: '', backend: 'auto', mode: 'ar', threads: 0 },
    completion: {
      enabled: true,
      debounceMs: 75,
      maxTokens: 48,
      multiline: 'auto',
      contextTokens: 1024,
      suffixShare: 0.25,
      snippets: true,
      temperature: 0,
    },
    trace: { capacity: 200, file: '' },
    log: { level: 'info' },
  };
}

type Check = (v: unknown) => boolean;
const isString: Check = (v) => typeof v === 'string';
const isBool: Check = (v) => typeof v === 'boolean';
const intIn = (min: number, max: number): Check => (v) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const numIn = (min: number, max: number): Check => (v) => typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max;
const oneOf = (...values: string[]): Check => (v) => typeof v === 'string' && values.includes(v);

/** Every setting, by its dotted name under `slipstream.`, with what a valid value is. */
export const SETTINGS_SPEC: Record<string, { check: Check; expect: string }> = {
  'engine.model': { check: isString, expect: 'a folder path' },
  'engine.drafter': { check: isString, expect: 'a folder path' },
  'engine.backend': { check: oneOf('auto', 'cpu', 'cuda'), expect: '"auto", "cpu" or "cuda"' },
  'engine.mode': { check: oneOf('ar', 'redrafter'), expect: '"ar" or "redrafter"' },
  'engine.threads': { check: intIn(0, 256), expect: 'an integer 0..256' },
  'completion.enabled': { check: isBool, expect: 'true or false' },
  'completion.debounceMs': { check: intIn(0, 5000), expect: 'an integer 0..5000' },
  'completion.maxTokens': { check: intIn(1, 1024), expect: 'an integer 1..1024' },
  'completion.multiline': { check: oneOf('auto', 'always', 'never'), expect: '"auto", "always" or "never"' },
  'completion.contextTokens': { check: intIn(16, 32768), expect: 'an integer 16..32768' },
  'completion.suffixShare': { check: numIn(0, 0.9), expect: 'a number 0..0.9' },
  'completion.snippets': { check: isBool, expect: 'true or false' },
  'completion.temperature': { check: numIn(0, 2), expect: 'a number 0..2' },
  'trace.capacity': { check: intIn(0, 100000), expect: 'an integer 0..100000' },
  'trace.file': { check: isString, expect: 'a file path' },
  'log.level': { check: oneOf('error', 'warn', 'info', 'debug'), expect: '"error", "warn", "info" or "debug"' },
};

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
export function applySettings(base: Settings, source: unknown): { settings: Settings; warnings: string[] } {
  const settings = structuredClone(base);
  const warnings: string[] = [];
  for (const [name, value] of flattenSettings(source)) {
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
      warnings.push(`setting slipstream.${name} = ${JSON.stringify(value)} ignored: expected ${spec.expect}`);
      continue;
    }
    const [group, key] = name.split('.') as [keyof Settings, string];
    (settings[group] as Record<string, unknown>)[key] = value;
  }
  return { settings, warnings };
}

/** True when a change between the two settings needs the model reloaded. */
export function engineChanged(a: Settings, b: Settings): boolean {
  return a.engine.model !== b.engine.model || a.engine.drafter !== b.engine.drafter || a.engine.backend !== b.engine.backend || a.engine.threads !== b.engine.threads;
}

/** The merged settings of one connection, rebuilt whenever a source changes. */
export class ConfigStore {
  private layers: unknown[] = [];
  private current: Settings;
  private readonly listeners: ((next: Settings, prev: Settings) => void)[] = [];

  constructor(
    private readonly base: Settings,
    private readonly warn: (message: string) => void,
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
      const r = applySettings(s, l);
      s = r.settings;
      if (l === source) for (const w of r.warnings) this.warn(w);
    }
    const prev = this.current;
    this.current = s;
    if (JSON.stringify(prev) !== JSON.stringify(s)) for (const f of this.listeners) f(s, prev);
  }
}
