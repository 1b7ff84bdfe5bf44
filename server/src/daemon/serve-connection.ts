/**
 * One admitted socket of the shared daemon as its own language server on the shared engine host:
 * the connection's view of the engine (connection-engine-host.ts: one queued generation, its own
 * session keys), a watch that disconnects a client that does not read its replies, and, when the
 * connection ends however it ends (exit, the client hanging up, the watch), its engine sessions
 * closed on the shared host. Listening, admission and connection counts are socket-server.ts's.
 */
import type { Socket } from 'node:net';
import type { EngineHost } from '../completion/engine-host.js';
import { startServer, type Server, type ServerOptions } from '../server.js';
import { createStreamConnection, OUTPUT_BACKLOG_LIMIT } from '../transport.js';
import { ConnectionEngineHost } from './connection-engine-host.js';

export interface ConnectionOptions {
  /** The daemon's one engine host (configured by the daemon, never by a connection). */
  engineHost: EngineHost;
  /** The connection's server options, less its engine host. */
  server: Omit<ServerOptions, 'engineHost' | 'ownsEngineHost'>;
  /** Unread reply bytes above which a client is disconnected, and how long its input may stay paused. */
  stallBytes: number;
  stallMs: number;
}

/** How often a connection's unread reply bytes are looked at. */
const WATCH_MS = 100;

/**
 * Disconnects a client whose unread replies (the socket's write buffer) pass opts.stallBytes, or
 * stay above 4 MiB (where transport.ts stops reading its input) for opts.stallMs.
 */
function watchUnread(socket: Socket, opts: ConnectionOptions, disconnect: (reason: string) => void): void {
  let above: number | null = null;
  const timer = setInterval(() => {
    const unread = socket.writableLength;
    if (unread > opts.stallBytes) return stop(`${unread} bytes of replies unread, limit ${opts.stallBytes}`);
    if (unread <= OUTPUT_BACKLOG_LIMIT) above = null;
    else if (above === null) above = Date.now();
    else if (Date.now() - above >= opts.stallMs) stop(`replies unread for ${opts.stallMs} ms`);
  }, WATCH_MS);
  timer.unref();
  const stop = (reason: string): void => {
    clearInterval(timer);
    disconnect(reason);
  };
  socket.once('close', () => clearInterval(timer));
}

/** Serves `socket` until it closes; its engine sessions are closed with it. */
export function serveConnection(socket: Socket, opts: ConnectionOptions): Server {
  const engine = new ConnectionEngineHost(opts.engineHost);
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    socket.end();
    connection.dispose();
    void engine.dispose();
  };
  const connection = createStreamConnection(socket, socket, { exit: close });
  watchUnread(socket, opts, (reason) => {
    process.stderr.write(`slipstream serve: disconnected a client that does not read its replies (${reason})\n`);
    close();
    socket.destroy();
  });
  socket.on('close', close);
  return startServer(connection, { ...opts.server, engineHost: engine, ownsEngineHost: false });
}
