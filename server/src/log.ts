/**
 * Logger for the server: levels, a `code` for engine errors, and one sink. Over LSP the sink is
 * `window/logMessage` (connection.console); it is never stdout, which belongs to the JSON-RPC writer.
 */
import type { LogLevelName } from './config.js';

const RANK: Record<LogLevelName, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export type LogSink = (level: LogLevelName, message: string) => void;

export class Logger {
  private rank = RANK.info;
  constructor(private readonly sink: LogSink) {}

  setLevel(level: LogLevelName): void {
    this.rank = RANK[level];
  }
  enabled(level: LogLevelName): boolean {
    return RANK[level] <= this.rank;
  }
  error(message: string, code?: string): void {
    this.write('error', code ? `${message} [${code}]` : message);
  }
  warn(message: string): void {
    this.write('warn', message);
  }
  info(message: string): void {
    this.write('info', message);
  }
  debug(message: string): void {
    this.write('debug', message);
  }
  private write(level: LogLevelName, message: string): void {
    if (RANK[level] <= this.rank) this.sink(level, `slipstream: ${message}`);
  }
}

/** A sink for places without a connection (demo, CLI): stderr, one line per message. */
export const stderrSink: LogSink = (level, message) => {
  process.stderr.write(`[${level}] ${message}\n`);
};
