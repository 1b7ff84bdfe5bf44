/**
 * The shared daemon: `slipstream serve --port N`. One engine host for every connection, configured
 * once from the daemon's own settings (defaults < --config file < flags); each connection is its
 * own Server with its own completion settings (a client's engine settings are ignored: config.ts
 * SettingSpec.scope). Every connection passes admission.ts first (token, LSP framing, handshake
 * timeout) unless the daemon runs with --insecure-no-token; connection-limits.ts bounds how many
 * are open; serve-connection.ts serves each admitted one (one queued generation and its own
 * engine sessions per connection, a client that does not read its replies disconnected).
 */
import { createServer, isIP, type Socket } from 'node:net';
import type { Settings, SharedPolicy } from '../config.js';
import { SwitchingEngineHost } from '../completion/switching-engine-host.js';
import { Logger, stderrSink } from '../log.js';
import { admit, refuse } from './admission.js';
import type { DocumentLimits } from '../document-limits.js';
import { ConnectionLimits, type Limits } from './connection-limits.js';
import { removeDaemonFile, writeDaemonFile } from './daemon-file.js';
import { serveConnection, type ConnectionOptions } from './serve-connection.js';

export interface DaemonOptions {
  port: number;
  host: string;
  /** The daemon's settings (engine settings come only from here). */
  settings: Settings;
  stateDir: string;
  /** null: no token is asked (--insecure-no-token). */
  token: string | null;
  limits: Limits;
  handshakeTimeoutMs: number;
  /** Unread reply bytes above which a client is disconnected, and how long its input may stay paused. */
  stallBytes: number;
  stallMs: number;
  /** What each connection's open documents may hold (document-limits.ts; its defaults where not given). */
  documentLimits?: Partial<DocumentLimits>;
  debugMethods?: boolean;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

export function serveDaemon(opts: DaemonOptions): Promise<number> {
  const log = new Logger(stderrSink);
  const engineHost = new SwitchingEngineHost(log);
  engineHost.configure(opts.settings.engine);
  const shared: SharedPolicy = { stateDir: opts.stateDir };
  const limits = new ConnectionLimits(opts.limits);
  const connectionOptions: ConnectionOptions = {
    engineHost,
    server: {
      base: opts.settings,
      shared,
      ...(opts.documentLimits ? { documentLimits: opts.documentLimits } : {}),
      ...(opts.debugMethods !== undefined ? { debugMethods: opts.debugMethods } : {}),
    },
    stallBytes: opts.stallBytes,
    stallMs: opts.stallMs,
  };

  return new Promise<number>((resolvePromise) => {
    const server = createServer((socket: Socket) => {
      socket.on('error', () => socket.destroy());
      const address = socket.remoteAddress ?? '?';
      const refused = limits.acquire(address);
      if (refused !== null) return refuse(socket, `${refused}: connection closed`);
      socket.once('close', () => limits.release(address));
      if (opts.token === null) return void serveConnection(socket, connectionOptions);
      void admit(socket, { token: opts.token, timeoutMs: opts.handshakeTimeoutMs }).then((a) => {
        if (!a.ok) return;
        socket.unshift(a.replay);
        serveConnection(socket, connectionOptions);
        socket.resume();
      });
    });
    server.on('error', (err) => {
      process.stderr.write(`slipstream serve: cannot listen on ${opts.host}:${opts.port}: ${err.message}\n`);
      resolvePromise(1);
    });
    server.listen(opts.port, opts.host, () => {
      const addr = server.address();
      const actual = typeof addr === 'object' && addr ? addr.port : opts.port;
      if (opts.token !== null) writeDaemonFile(opts.stateDir, { pid: process.pid, host: opts.host, port: actual });
      const stop = (): void => {
        removeDaemonFile(opts.stateDir);
        process.exit(0);
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      process.stderr.write(`slipstream serve: listening on ${opts.host}:${actual} (${opts.token === null ? 'NO TOKEN: any local process may use it' : `token in ${opts.stateDir}/token`})\n`);
      // Load the model now, so the first editor does not wait for it.
      engineHost.ready().catch((err: Error & { code?: string }) => process.stderr.write(`slipstream serve: cannot load the model: ${err.message} [${err.code ?? 'ENGINE_LOAD_FAILED'}]\n`));
    });
  });
}
