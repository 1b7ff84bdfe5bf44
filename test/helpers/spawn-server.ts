/**
 * A real `slipstream serve` process (stdio, or a TCP socket with --port), started by the shared
 * bench/lib/lsp-client.ts spawnServer, with bench/lib/rpc-client.ts's client that reads every frame
 * the server writes, so tests see exactly the bytes on the wire. Waiting is always on a message or
 * an exit, never on a sleep.
 */
import { spawnServer, type ServerProcess } from '../../bench/lib/lsp-client.js';
import { RpcClient } from '../../bench/lib/rpc-client.js';

export { RpcClient, spawnTcp, type RpcMessage } from '../../bench/lib/rpc-client.js';

export interface SpawnedServer extends ServerProcess {
  client: RpcClient;
}

/** Starts `slipstream serve --stdio` with extra args. */
export function spawnStdio(args: string[] = []): SpawnedServer {
  const server = spawnServer(['serve', '--stdio', ...args]);
  return { ...server, client: new RpcClient(server.child.stdout!, server.child.stdin!) };
}

/** True when `s` has no lone UTF-16 surrogate (String.prototype.isWellFormed, for ES2022 typings). */
export function isWellFormed(s: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}
