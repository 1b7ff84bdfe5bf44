/**
 * `slipstream serve`: the language server over stdio (one client) or over a loopback TCP port
 * (many clients at once, one connection each, one engine shared). In stdio mode stdout belongs to
 * the JSON-RPC writer alone. A client's `exit` or disconnect ends only its own connection in TCP
 * mode; in stdio mode it ends the process (0 after shutdown, else 1).
 */
import { createServer, type Socket } from 'node:net';
import { format } from 'node:util';
import { setEngineLogger } from '../../../native/lib/index.js';
import { SwitchingEngineHost } from '../completion/switching-engine-host.js';
import { Logger, stderrSink } from '../log.js';
import { startServer, type ServerOptions } from '../server.js';
import { createStreamConnection } from '../transport.js';
import { UsageError, type ParsedArgs } from './args.js';
import { existingDir } from './paths.js';

export async function runServe(args: ParsedArgs): Promise<number> {
  const { flags } = args;
  if (flags.stdio && flags.port !== undefined) throw new UsageError('--stdio and --port cannot be used together');
  const options: ServerOptions = {};
  if (typeof flags.model === 'string') options.modelDir = existingDir('model', flags.model);
  if (typeof flags.drafter === 'string') options.drafterDir = existingDir('drafter', flags.drafter);
  if (flags.mode !== undefined) {
    if (flags.mode !== 'auto' && flags.mode !== 'ar' && flags.mode !== 'redrafter') throw new UsageError("--mode must be 'auto', 'ar' or 'redrafter'");
    options.mode = flags.mode;
  }
  keepServing();
  if (flags.port !== undefined) return serveSocket(flags.port as number, flags.host as string, options);
  // Nothing but the JSON-RPC writer may touch stdout: route stray console output to stderr.
  guardStdout();
  return serveStdio(options, flags.clientProcessId as number | undefined);
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

function serveSocket(port: number, host: string, options: ServerOptions): Promise<number> {
  const engineHost = new SwitchingEngineHost(new Logger(stderrSink));
  return new Promise<number>((resolvePromise) => {
    const server = createServer((socket: Socket) => {
      socket.on('error', () => socket.destroy());
      let closed = false;
      const close = (): void => {
        if (closed) return;
        closed = true;
        socket.end();
        connection.dispose();
      };
      const connection = createStreamConnection(socket, socket, { exit: close });
      socket.on('close', close);
      startServer(connection, { ...options, engineHost, ownsEngineHost: false });
    });
    server.on('error', (err) => {
      process.stderr.write(`slipstream serve: cannot listen on ${host}:${port}: ${err.message}\n`);
      resolvePromise(1);
    });
    server.listen(port, host, () => {
      const addr = server.address();
      const actual = typeof addr === 'object' && addr ? addr.port : port;
      process.stderr.write(`slipstream serve: listening on ${host}:${actual}\n`);
    });
  });
}
