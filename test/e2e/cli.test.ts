/**
 * The `slipstream` command as a user runs it: help lists the subcommands, and mistakes exit
 * non-zero with exactly one line on stderr.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cliPath } from '../helpers/paths.js';

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('slipstream CLI', () => {
  it('lists every subcommand in --help', () => {
    const { code, stdout } = run('--help');
    expect(code).toBe(0);
    for (const name of ['serve', 'generate', 'bench', 'info', 'trace']) expect(stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
  });

  it.each([
    [['frobnicate'], "slipstream: unknown command 'frobnicate' (see slipstream --help)"],
    [['serve', '--nope'], "slipstream serve: unknown flag --nope for 'slipstream serve' (see slipstream serve --help)"],
    [['serve', '--port'], 'slipstream serve: --port needs a value (N)'],
    [['serve', '--model', '/definitely/not/here'], 'slipstream serve: --model: no such directory: /definitely/not/here'],
    [['serve', '--mode', 'fast'], "slipstream serve: --mode must be 'auto', 'ar' or 'redrafter'"],
    [['serve', '--max-documents', '0'], 'slipstream serve: --max-documents must be at least 1, got 0'],
    [['generate', '--model', '.', '--prompt-ids', '1', '--beams', '2'], "slipstream generate: --beams shapes ReDrafter's draft tree: it needs --mode redrafter"],
  ])('exits 2 with one line on stderr for %j', (args, message) => {
    const { code, stderr, stdout } = run(...args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(`${message}\n`);
  });
});
