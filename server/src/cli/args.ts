/**
 * A small, strict command-line parser: each subcommand declares its flags, and anything unknown,
 * a missing value or a malformed number is a UsageError with one clear line. Parsing never
 * touches the file system; commands check their paths themselves.
 */

export type FlagKind = 'string' | 'int' | 'number' | 'boolean' | 'ids';

export interface FlagSpec {
  kind: FlagKind;
  description: string;
  /** Shown in help, e.g. "DIR" or "N". */
  value?: string;
  default?: string | number | boolean;
  min?: number;
  max?: number;
}

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  flags: Record<string, FlagSpec>;
  /** Positional arguments, by name, all required. */
  positionals?: string[];
}

export type ParsedValue = string | number | boolean | number[];

export interface ParsedArgs {
  flags: Record<string, ParsedValue | undefined>;
  positionals: Record<string, string>;
}

/** A mistake in the command line: printed as one line, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

function parseValue(flag: string, spec: FlagSpec, raw: string): ParsedValue {
  switch (spec.kind) {
    case 'string':
      return raw;
    case 'int': {
      if (!/^-?\d+$/.test(raw)) throw new UsageError(`--${flag} expects an integer, got '${raw}'`);
      const n = Number(raw);
      checkRange(flag, spec, n);
      return n;
    }
    case 'number': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${flag} expects a number, got '${raw}'`);
      checkRange(flag, spec, n);
      return n;
    }
    case 'ids': {
      if (!/^\d+(,\d+)*$/.test(raw)) {
        throw new UsageError(`--${flag} expects comma-separated token ids such as 1,2,3, got '${raw}'`);
      }
      return raw.split(',').map(Number);
    }
    case 'boolean':
      throw new UsageError(`--${flag} takes no value`);
  }
}

function checkRange(flag: string, spec: FlagSpec, n: number): void {
  if (spec.min !== undefined && n < spec.min) throw new UsageError(`--${flag} must be at least ${spec.min}, got ${n}`);
  if (spec.max !== undefined && n > spec.max) throw new UsageError(`--${flag} must be at most ${spec.max}, got ${n}`);
}

/** Parses argv (after the subcommand name) against a command's spec. */
export function parseArgs(spec: CommandSpec, argv: string[]): ParsedArgs {
  const flags: Record<string, ParsedValue | undefined> = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    const flagSpec = Object.hasOwn(spec.flags, name) ? spec.flags[name] : undefined;
    if (!flagSpec) throw new UsageError(`unknown flag --${name} for 'slipstream ${spec.name}' (see slipstream ${spec.name} --help)`);
    if (Object.hasOwn(flags, name)) throw new UsageError(`--${name} given twice`);
    if (flagSpec.kind === 'boolean') {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      flags[name] = true;
      continue;
    }
    let raw: string | undefined;
    if (eq >= 0) raw = arg.slice(eq + 1);
    else if (i + 1 < argv.length && !(argv[i + 1]!.startsWith('--'))) raw = argv[++i];
    if (raw === undefined) throw new UsageError(`--${name} needs a value${flagSpec.value ? ` (${flagSpec.value})` : ''}`);
    flags[name] = parseValue(name, flagSpec, raw);
  }
  const names = spec.positionals ?? [];
  if (positionals.length > names.length) {
    throw new UsageError(`unexpected argument '${positionals[names.length]}' for 'slipstream ${spec.name}'`);
  }
  if (positionals.length < names.length) {
    throw new UsageError(`'slipstream ${spec.name}' needs ${names.slice(positionals.length).map((n) => n.toUpperCase()).join(' ')}`);
  }
  const named: Record<string, string> = {};
  names.forEach((n, i) => (named[n] = positionals[i]!));
  for (const [name, f] of Object.entries(spec.flags)) {
    if (flags[name] === undefined && f.default !== undefined) flags[name] = f.default;
  }
  return { flags, positionals: named };
}

/** Help text for one command, generated from its spec. */
export function commandHelp(spec: CommandSpec): string {
  const lines = [`usage: ${spec.usage}`, '', spec.summary, ''];
  const width = Math.max(...Object.entries(spec.flags).map(([n, f]) => n.length + (f.value ? f.value.length + 1 : 0))) + 4;
  for (const [name, f] of Object.entries(spec.flags)) {
    const left = `--${name}${f.value ? ` ${f.value}` : ''}`;
    const def = f.default !== undefined && f.kind !== 'boolean' ? ` (default ${f.default})` : '';
    lines.push(`  ${left.padEnd(width)}${f.description}${def}`);
  }
  return lines.join('\n');
}
