/**
 * `slipstream serve`: the language server over stdio (one client) or over a loopback TCP port
 * (many clients, one connection each). In stdio mode stdout belongs to the JSON-RPC writer alone.
 */
import { createServer, type Socket } from 'node:net';
import { format } from 'node:util';
import { createConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-languageserver/node';
import { startServer, type ServerOptions } from '../server.js';
import { UsageError, type ParsedArgs } from './args.js';
import { existingDir } from './paths.js';

export async function runServe(args: ParsedArgs): Promise<number> {
  const { flags } = args;
  if (flags.stdio && flags.port !== undefined) throw new UsageError('--stdio and --port cannot be used together');
  const options: ServerOptions = {};
  if (typeof flags.model === 'string') options.modelDir = existingDir('model', flags.model);
  if (typeof flags.drafter === 'string') options.drafterDir = existingDir('drafter', flags.drafter);
  if (flags.port !== undefined) return serveSocket(flags.port as number, flags.host as string, options);
  // Nothing but the JSON-RPC writer may touch stdout: route stray console output to stderr.
  guardStdout();
  // vscode-languageserver exits the process itself on the `exit` notification (0 after shutdown).
  startServer(createConnection(new StreamMessageReader(process.stdin), new StreamMessageWriter(process.stdout)), options);
  return new Promise<number>(() => {});
}

function guardStdout(): void {
  const toStderr = (...args: unknown[]): void => {
    process.stderr.write(`${format(...args)}\n`);
  };
  console.log = toStderr;
  console.info = toStderr;
  console.debug = toStderr;
}

function serveSocket(port: number, host: string, options: ServerOptions): Promise<number> {
  return new Promise<number>((resolvePromise) => {
    const server = createServer((socket: Socket) => {
      socket.on('error', () => socket.destroy());
      const connection = createConnection(new StreamMessageReader(socket), new StreamMessageWriter(socket));
      // A client's `exit` ends its own connection, not the whole server.
      connection.onExit(() => {
        socket.end();
      });
      startServer(connection, options);
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
