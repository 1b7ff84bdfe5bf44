/**
 * A free TCP port on the loopback interface, for a child process told to listen there
 * (llama-server, code-server): the port the OS gives a probe listener, closed again at once.
 */
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const addr = probe.address();
      probe.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('the probe listener has no port'))));
    });
  });
}
