/**
 * The daemon's own settings file (`serve --config FILE`): JSON in the same shapes a client may send
 * (nested, dotted or wrapped in `slipstream`), read with a size cap from a regular file only
 * (never a FIFO or a device: the open does not block), applied over the defaults. Errors name the
 * file and the problem, never its contents.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { applySettings, defaultSettings, type Settings } from '../config.js';

export const CONFIG_FILE_LIMIT = 1024 * 1024;

export function readConfigFile(path: string): { settings: Settings; warnings: string[] } {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw new Error(`cannot open config file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let text: string;
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error(`config file ${path} is not a regular file`);
    if (st.size > CONFIG_FILE_LIMIT) throw new Error(`config file ${path} is larger than ${CONFIG_FILE_LIMIT} bytes`);
    const buf = Buffer.alloc(st.size);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, got);
      if (n === 0) break;
      got += n;
    }
    text = buf.subarray(0, got).toString('utf8');
  } finally {
    closeSync(fd);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`config file ${path} is not valid JSON (${(err as Error).message.replace(/ in JSON.*$/, '').slice(0, 80)})`);
  }
  return applySettings(defaultSettings(), json);
}
