/**
 * The command-line parser: flags by kind, defaults, and one clear message for each mistake.
 */
import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from '../../server/src/cli/args.js';
import { benchCommand, generateCommand, serveCommand } from '../../server/src/cli/commands.js';

describe('parseArgs', () => {
  it('parses generate flags of every kind and fills defaults', () => {
    const { flags } = parseArgs(generateCommand, ['--model', 'm', '--prompt-ids', '1,2,3', '--temperature=0.5', '--json']);
    expect(flags).toMatchObject({ model: 'm', 'prompt-ids': [1, 2, 3], temperature: 0.5, json: true, 'max-tokens': 64, mode: 'ar' });
  });

  it('rejects an unknown flag naming the command', () => {
    expect(() => parseArgs(serveCommand, ['--bogus'])).toThrow(new UsageError("unknown flag --bogus for 'slipstream serve' (see slipstream serve --help)"));
  });

  it.each(['toString', 'constructor', '__proto__'])('rejects --%s as an unknown flag, not a built-in', (name) => {
    expect(() => parseArgs(serveCommand, [`--${name}`])).toThrow(new UsageError(`unknown flag --${name} for 'slipstream serve' (see slipstream serve --help)`));
  });

  it('rejects a flag whose value is missing', () => {
    expect(() => parseArgs(serveCommand, ['--port'])).toThrow(new UsageError('--port needs a value (N)'));
  });

  it('rejects malformed numbers, out-of-range values and bad id lists', () => {
    expect(() => parseArgs(serveCommand, ['--port', 'abc'])).toThrow("--port expects an integer, got 'abc'");
    expect(() => parseArgs(serveCommand, ['--port', '70000'])).toThrow('--port must be at most 65535, got 70000');
    expect(() => parseArgs(generateCommand, ['--prompt-ids', '1,,2'])).toThrow('--prompt-ids expects comma-separated token ids');
  });

  it('requires positionals and refuses extra ones', () => {
    expect(() => parseArgs(benchCommand, [])).toThrow("'slipstream bench' needs SUITE");
    expect(() => parseArgs(benchCommand, ['engine', 'b'])).toThrow("unexpected argument 'b' for 'slipstream bench'");
    expect(parseArgs(benchCommand, ['engine']).positionals).toEqual({ suite: 'engine' });
  });
});
