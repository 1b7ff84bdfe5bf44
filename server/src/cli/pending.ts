/**
 * The honest answer of a subcommand whose shape is fixed but whose work has not landed yet:
 * one line on stderr saying what is missing, exit code 1.
 */
export async function notYetAvailable(command: string, why: string): Promise<number> {
  process.stderr.write(`slipstream ${command}: not available yet: ${why}\n`);
  return 1;
}
