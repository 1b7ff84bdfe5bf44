/**
 * `slipstream serve`: the language server over stdio (one client), the shared daemon on a TCP port
 * (many clients, token required, one engine: daemon/socket-server.ts), or with `--stdio --connect`
 * a stdio bridge to that daemon (daemon/bridge.ts). In stdio mode stdout belongs to the JSON-RPC
 * writer alone. A client's `exit` or disconnect ends only its own connection in TCP mode; in
 * stdio mode it ends the process (0 after shutdown, else 1).
 */
import { resolve } from 'node:path';
import { format } from 'node:util';
import { setEngineLogger } from '../../../native/lib/index.js';
import { defaultSettings } from '../config.js';
import { runBridge } from '../daemon/bridge.js';
import { readConfigFile } from '../daemon/config-file.js';
import { DEFAULT_LIMITS } from '../daemon/connection-limits.js';
import { isLoopback, serveDaemon } from '../daemon/socket-server.js';
import { ensureStateDir, stateDirPath } from '../daemon/state-dir.js';
import { readOrCreateToken } from '../daemon/token.js';
import type { Logger } from '../log.js';
import { startServer, type ServerOptions } from '../server.js';
import { createStreamConnection } from '../transport.js';
import { UsageError, type ParsedArgs } from './args.js';
import { existingDir } from './paths.js';
import { weightsFromFlags } from './weights-flag.js';

export async function runServe(args: ParsedArgs): Promise<number> {
  const { flags } = args;
  if (flags.stdio && flags.port !== undefined) throw new UsageError('--stdio and --port cannot be used together');
  if (flags.connect && flags.port !== undefined) throw new UsageError('--connect is a stdio bridge: it cannot be used with --port');
  const daemonOnly = ['allow-remote', 'insecure-no-token', 'max-connections', 'max-per-address', 'handshake-timeout-ms'].filter((f) => flags[f] !== undefined);
  if (flags.port === undefined && daemonOnly.length > 0) throw new UsageError(`--${daemonOnly[0]} needs --port`);
  const options: ServerOptions = {};
  if (typeof flags.model === 'string') options.modelDir = existingDir('model', flags.model);
  if (typeof flags.drafter === 'string') options.drafterDir = existingDir('drafter', flags.drafter);
  if (flags.mode !== undefined) {
    if (flags.mode !== 'auto' && flags.mode !== 'ar' && flags.mode !== 'redrafter') throw new UsageError("--mode must be 'auto', 'ar' or 'redrafter'");
    options.mode = flags.mode;
  }
  let base = defaultSettings();
  if (typeof flags.config === 'string') {
    const r = readConfigFile(flags.config);
    for (const w of r.warnings) process.stderr.write(`slipstream serve: ${flags.config}: ${w}\n`);
    base = r.settings;
  }
  if (options.modelDir) base.engine.model = options.modelDir;
  if (options.drafterDir) base.engine.drafter = options.drafterDir;
  if (options.mode) base.engine.mode = options.mode;
  const weights = weightsFromFlags(flags);
  if (weights) base.engine.weights = weights;
  options.base = base;
  const maxDocuments = flags['max-documents'] as number | undefined;
  const maxDocumentMiB = flags['max-document-mib'] as number | undefined;
  options.documentLimits = {
    ...(maxDocuments !== undefined ? { maxDocuments } : {}),
    ...(maxDocumentMiB !== undefined ? { maxBytes: maxDocumentMiB * 1024 * 1024 } : {}),
  };
  const stateDir = stateDirPath(flags['state-dir'] as string | undefined);
  if (flags.connect) {
    guardStdout();
    const daemonArgs: string[] = [];
    for (const f of ['model', 'drafter', 'mode', 'weights', 'config'] as const) if (typeof flags[f] === 'string') daemonArgs.push(`--${f}`, resolveIfPath(f, flags[f] as string));
    for (const f of ['max-documents', 'max-document-mib'] as const) if (typeof flags[f] === 'number') daemonArgs.push(`--${f}`, String(flags[f]));
    return runBridge({ stateDir: ensureStateDir(stateDir), daemonArgs, startTimeoutMs: 60_000 });
  }
  keepServing();
  if (flags.port !== undefined) {
    const host = flags.host as string;
    if (!isLoopback(host)) {
      if (!flags['allow-remote']) throw new UsageError(`--host ${host} is not a loopback address: add --allow-remote to serve other machines (anyone who can reach it and has the token can use it)`);
      process.stderr.write(`slipstream serve: WARNING: listening on ${host}, reachable from other machines; the token is the only protection and travels unencrypted\n`);
    }
    const insecure = flags['insecure-no-token'] === true;
    if (insecure) process.stderr.write('slipstream serve: WARNING: --insecure-no-token: any process that can reach the port can use the server and read what it completes\n');
    return serveDaemon({
      port: flags.port as number,
      host,
      settings: base,
      stateDir: ensureStateDir(stateDir),
      token: insecure ? null : readOrCreateToken(stateDir),
      limits: {
        total: (flags['max-connections'] as number | undefined) ?? DEFAULT_LIMITS.total,
        perAddress: (flags['max-per-address'] as number | undefined) ?? DEFAULT_LIMITS.perAddress,
      },
      handshakeTimeoutMs: (flags['handshake-timeout-ms'] as number | undefined) ?? 10_000,
      stallBytes: 16 * 1024 * 1024,
      stallMs: (flags['write-stall-ms'] as number | undefined) ?? 30_000,
      documentLimits: options.documentLimits,
    });
  }
  // Nothing but the JSON-RPC writer may touch stdout: route stray console output to stderr.
  guardStdout();
  return serveStdio(options, flags.clientProcessId as number | undefined);
}

/** Model, drafter and config paths made absolute for a daemon started elsewhere. */
function resolveIfPath(flag: string, value: string): string {
  return flag === 'mode' || flag === 'weights' ? value : resolve(value);
}

function serveStdio(options: ServerOptions, clientPid: number | undefined): Promise<number> {
  return new Promise<number>((resolvePromise) => {
    let done = false;
    const finish = (code: number): void => {
      if (done) return;
      done = true;
      // Let the last frames (the shutdown reply) drain before the process ends.
      process.stdout.write('', () => {
        resolvePromise(code);
        process.exit(code);
      });
    };
    // The editor's process (initialize's processId, or --clientProcessId): gone means nobody is left to serve.
    const watchClient = (pid: number | null | undefined): void => {
      if (pid === null || pid === undefined) return;
      const timer = setInterval(() => {
        try {
          process.kill(pid, 0);
        } catch {
          finish(1);
        }
      }, 3000);
      timer.unref();
    };
    watchClient(clientPid);
    const connection = createStreamConnection(process.stdin, process.stdout, {
      exit: (code) => finish(code),
      initialize: watchClient,
    });
    // The client went away without `exit`: nothing is left to serve.
    process.stdin.on('end', () => finish(1));
    const server = startServer(connection, options);
    routeEngineLogs(server.log);
  });
}

/**
 * A bug in one request must not take the server (and every other client) down: log it on
 * stderr and keep serving.
 */
function keepServing(): void {
  process.on('uncaughtException', (err) => {
    process.stderr.write(`slipstream serve: internal error (still serving): ${err?.stack ?? String(err)}\n`);
  });
  process.on('unhandledRejection', (err) => {
    process.stderr.write(`slipstream serve: internal error (still serving): ${(err as Error)?.stack ?? String(err)}\n`);
  });
}

/** Native engine log lines go to this connection's log (window/logMessage) instead of stderr. */
function routeEngineLogs(log: Logger): void {
  try {
    setEngineLogger((level, line) => (level === 'error' ? log.error(`engine: ${line}`) : log[level](`engine: ${line}`)));
  } catch {
    // The addon is not built: the engine host reports that on the first request.
  }
}

function guardStdout(): void {
  const toStderr = (...args: unknown[]): void => {
    process.stderr.write(`${format(...args)}\n`);
  };
  console.log = toStderr;
  console.info = toStderr;
  console.debug = toStderr;
  console.warn = toStderr;
}
