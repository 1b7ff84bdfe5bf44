/**
 * The shared daemon's per-connection serving (daemon/serve-connection.ts) on a loopback port inside
 * the test process, over one engine host the test gives (a FAKE in test/lsp), without admission
 * (no token) or a daemon file: real sockets, so a client hanging up is a real close. Clients are
 * RpcClients; waiting is on messages and events, never on sleeps.
 */
import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RpcClient } from '../../bench/lib/rpc-client.js';
import type { EngineHost } from '../../server/src/completion/engine-host.js';
import { serveConnection } from '../../server/src/daemon/serve-connection.js';
import type { ServerOptions } from '../../server/src/server.js';

export interface InProcessDaemon {
  connect(): Promise<{ client: RpcClient; socket: Socket }>;
  close(): Promise<void>;
}

export async function startInProcessDaemon(engineHost: EngineHost, server: Omit<ServerOptions, 'engineHost' | 'ownsEngineHost'> = {}): Promise<InProcessDaemon> {
  const sockets = new Set<Socket>();
  const listener = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => socket.destroy());
    socket.once('close', () => sockets.delete(socket));
    serveConnection(socket, {
      engineHost,
      server: { shared: { stateDir: join(tmpdir(), 'slipstream-in-process-daemon') }, ...server },
      stallBytes: 16 * 1024 * 1024,
      stallMs: 30_000,
    });
  });
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const port = (listener.address() as AddressInfo).port;
  return {
    async connect() {
      const socket = connect(port, '127.0.0.1');
      await once(socket, 'connect');
      return { client: new RpcClient(socket, socket), socket };
    },
    async close() {
      for (const s of sockets) s.destroy();
      listener.close();
      await once(listener, 'close');
    },
  };
}
