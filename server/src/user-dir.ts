/**
 * Where Slipstream keeps a kind of per-user file (the daemon's state, the calibration cache):
 * $SLIPSTREAM_<KIND>_DIR, else $XDG_<KIND>_HOME/slipstream (an XDG variable that is not an
 * absolute path is ignored, as the XDG spec says), else that XDG default under the home directory.
 * Only the server's own environment decides it, never a client.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** own: e.g. SLIPSTREAM_CACHE_DIR; xdg: e.g. XDG_CACHE_HOME; fallback: the XDG default below the home directory, e.g. ['.cache']. */
export function userDirPath(env: NodeJS.ProcessEnv, own: string, xdg: string, fallback: string[]): string {
  const mine = env[own];
  if (mine) return resolve(mine);
  const base = env[xdg];
  return join(base && base.startsWith('/') ? base : join(homedir(), ...fallback), 'slipstream');
}
