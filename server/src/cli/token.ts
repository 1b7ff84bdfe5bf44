/** `slipstream token`: prints the shared daemon's token (daemon/token.ts), creating it when missing. */
import { stateDirPath } from '../daemon/state-dir.js';
import { readOrCreateToken } from '../daemon/token.js';
import type { ParsedArgs } from './args.js';

export async function runToken(args: ParsedArgs): Promise<number> {
  const token = readOrCreateToken(stateDirPath(args.flags['state-dir'] as string | undefined));
  process.stdout.write(`${token}\n`);
  return 0;
}
