/**
 * STATE_DIR/daemon.json: where the running daemon listens ({pid, host, port}), written (0600) once
 * it listens and removed when it stops, so `serve --stdio --connect` finds it. A stale file (the
 * process is gone, or nothing answers on the port) is treated as no daemon.
 */
import { closeSync, constants, fstatSync, openSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const DAEMON_FILE = 'daemon.json';

export interface DaemonAddress {
  pid: number;
  host: string;
  port: number;
}

export function writeDaemonFile(stateDir: string, address: DaemonAddress): void {
  const path = join(stateDir, DAEMON_FILE);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(address)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

/** Removes the file when it still names this process. */
export function removeDaemonFile(stateDir: string): void {
  const current = readDaemonFile(stateDir);
  if (current?.pid === process.pid) rmSync(join(stateDir, DAEMON_FILE), { force: true });
}

export function readDaemonFile(stateDir: string): DaemonAddress | null {
  let fd: number;
  try {
    fd = openSync(join(stateDir, DAEMON_FILE), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    if (!fstatSync(fd).isFile()) return null;
    const buf = Buffer.alloc(4096);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const v = JSON.parse(buf.subarray(0, n).toString('utf8')) as Partial<DaemonAddress>;
    if (typeof v.pid !== 'number' || typeof v.host !== 'string' || typeof v.port !== 'number') return null;
    return { pid: v.pid, host: v.host, port: v.port };
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}
