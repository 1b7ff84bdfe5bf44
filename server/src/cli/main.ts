/**
 * Entry point of the `slipstream` command: picks the subcommand, parses its flags and runs it.
 * Usage errors print one line on stderr and exit 2; other failures exit 1. Only `serve` keeps
 * stdout for JSON-RPC; the other subcommands print their results there.
 */
import { commandHelp, parseArgs, UsageError, type CommandSpec } from './args.js';
import { commands } from './commands.js';
import { runServe } from './serve.js';
import { runGenerate } from './generate.js';
import { runInfo } from './info.js';
import { runBench } from './bench.js';
import { runTrace } from './trace.js';
import { runToken } from './token.js';
import { runQuantize } from './quantize.js';
import { runTrainDrafter } from './train-drafter/run.js';
import { VERSION } from '../version.js';

type Handler = (args: ReturnType<typeof parseArgs>) => Promise<number>;

const handlers: Record<string, Handler> = {
  serve: runServe,
  generate: runGenerate,
  info: runInfo,
  bench: runBench,
  trace: runTrace,
  token: runToken,
  'train-drafter': runTrainDrafter,
  quantize: runQuantize,
};

export function mainHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 4;
  return [
    'usage: slipstream <command> [flags]',
    '',
    'Slipstream: a code-completion language server with its own inference engine.',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    "run 'slipstream <command> --help' for a command's flags",
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${mainHelp()}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const spec: CommandSpec | undefined = commands.find((c) => c.name === name);
  if (!spec) {
    process.stderr.write(`slipstream: unknown command '${name}' (see slipstream --help)\n`);
    return 2;
  }
  if (rest.includes('--help')) {
    process.stdout.write(`${commandHelp(spec)}\n`);
    return 0;
  }
  try {
    return await handlers[spec.name]!(parseArgs(spec, rest));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`slipstream ${spec.name}: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`slipstream ${spec.name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
