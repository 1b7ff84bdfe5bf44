/**
 * `slipstream serve --stdio --connect`: a stdio language server that is really a pipe to the shared
 * daemon, for editors that can only spawn a stdio server. Finds the daemon through
 * STATE_DIR/daemon.json, starts it (detached, its stderr to STATE_DIR/daemon.log) when nothing
 * answers there, adds the token to the client's `initialize` (initializationOptions.token) and
 * then copies frames both ways unchanged. Its stdout carries only the daemon's frames.
 */
import { spawn } from 'node:child_process';
import { closeSync, constants, openSync, rmSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { FrameDecoder } from '../frame-decoder.js';
import { readDaemonFile } from './daemon-file.js';
import { readOrCreateToken } from './token.js';

export interface BridgeOptions {
  stateDir: string;
  /** Flags for a daemon this bridge starts (--model, --drafter, --mode, --config). */
  daemonArgs: string[];
  /** How long to wait for a daemon it started to listen. */
  startTimeoutMs: number;
}

const frame = (body: Buffer): Buffer => Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'ascii'), body]);

function tryConnect(host: string, port: number): Promise<Socket | null> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(null);
    }, 2000);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', () => {
      clearTimeout(timer);
      resolve(null);
    });
  });
}

async function connectToDaemon(stateDir: string): Promise<Socket | null> {
  const addr = readDaemonFile(stateDir);
  if (!addr) return null;
  try {
    process.kill(addr.pid, 0);
  } catch {
    return null;
  }
  return tryConnect(addr.host, addr.port);
}

/** Starts a detached daemon unless another bridge is starting one (STATE_DIR/start.lock, under 60 s old). */
function startDaemon(stateDir: string, daemonArgs: string[]): void {
  const lock = join(stateDir, 'start.lock');
  try {
    if (Date.now() - statSync(lock).mtimeMs > 60_000) rmSync(lock, { force: true });
  } catch {
    // no lock
  }
  try {
    closeSync(openSync(lock, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600));
  } catch {
    return; // someone else is starting it
  }
  const logFd = openSync(join(stateDir, 'daemon.log'), constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND, 0o600);
  const child = spawn(process.execPath, [process.argv[1]!, 'serve', '--port', '0', '--state-dir', stateDir, ...daemonArgs], {
    detached: true,
    stdio: ['ignore', 'ignore', logFd],
  });
  child.unref();
  closeSync(logFd);
}

export async function runBridge(opts: BridgeOptions): Promise<number> {
  const token = readOrCreateToken(opts.stateDir);
  let socket = await connectToDaemon(opts.stateDir);
  if (!socket) {
    startDaemon(opts.stateDir, opts.daemonArgs);
    const deadline = Date.now() + opts.startTimeoutMs;
    while (!socket && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      socket = await connectToDaemon(opts.stateDir);
    }
    rmSync(join(opts.stateDir, 'start.lock'), { force: true });
    if (!socket) {
      process.stderr.write(`slipstream serve --connect: no daemon answered within ${opts.startTimeoutMs} ms (see ${join(opts.stateDir, 'daemon.log')})\n`);
      return 1;
    }
  }
  const daemon = socket;
  return new Promise<number>((resolve) => {
    let first = true;
    const decoder = new FrameDecoder(
      (body) => {
        let out = body;
        if (first) {
          first = false;
          out = withToken(body, token);
        }
        if (!daemon.write(frame(out))) {
          process.stdin.pause();
          daemon.once('drain', () => process.stdin.resume());
        }
      },
      (message) => process.stderr.write(`slipstream serve --connect: ${message}\n`),
    );
    process.stdin.on('data', (chunk: Buffer) => decoder.push(chunk));
    process.stdin.on('end', () => daemon.end());
    daemon.pipe(process.stdout);
    daemon.on('error', () => daemon.destroy());
    daemon.on('close', () => {
      process.stdout.write('', () => {
        resolve(0);
        process.exit(0);
      });
    });
  });
}

/** The client's first message with initializationOptions.token set (unchanged when it is not an initialize request). */
function withToken(body: Buffer, token: string): Buffer {
  let msg: unknown;
  try {
    msg = JSON.parse(body.toString('utf8'));
  } catch {
    return body;
  }
  const m = msg as { method?: unknown; params?: unknown };
  if (typeof msg !== 'object' || msg === null || m.method !== 'initialize' || typeof m.params !== 'object' || m.params === null) return body;
  const params = m.params as { initializationOptions?: unknown };
  const init = typeof params.initializationOptions === 'object' && params.initializationOptions !== null && !Array.isArray(params.initializationOptions) ? params.initializationOptions : {};
  params.initializationOptions = { ...init, token };
  return Buffer.from(JSON.stringify(msg), 'utf8');
}
