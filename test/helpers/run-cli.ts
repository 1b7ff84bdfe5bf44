/**
 * Runs this package's `slipstream` command (node bin/slipstream.js ARGS) to its end without
 * blocking the test's event loop, and returns its exit code and output. For e2e tests of
 * subcommands that run for a while (bench, trace).
 */
import { spawn } from 'node:child_process';
import { cliPath } from './paths.js';

export function runCli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
