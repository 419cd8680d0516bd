// Logs: pino. On a terminal they are human-readable lines (pino-pretty: time, level, message, fields);
// piped, or with --log-format json (CAPIM_EDGE_LOG_FORMAT=json), one JSON object per line for log
// collectors. Level from LOG_LEVEL (default info).
import { isatty } from "node:tty";
import { pino, type Logger, type DestinationStream } from "pino";
import pretty from "pino-pretty";

export type { Logger };

export type LogFormat = "json" | "text" | "auto";

export const LOG_FORMATS: readonly LogFormat[] = ["auto", "text", "json"];

export interface LoggerOptions {
  name?: string;
  level?: string;
  /** A stream to write to (tests, benchmarks); JSON lines, whatever the format. */
  destination?: DestinationStream;
  /** File descriptor when no destination is given: 1 (stdout, default) or 2 (stderr). */
  fd?: 1 | 2;
  /** `auto` (default, or CAPIM_EDGE_LOG_FORMAT): text on a terminal, JSON otherwise. */
  format?: LogFormat;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? process.env.LOG_LEVEL ?? "info";
  const base = { name: opts.name ?? "capim-edge", level, base: { pid: process.pid } };
  if (opts.destination) return pino(base, opts.destination);
  const fd = opts.fd ?? 1;
  const format = opts.format ?? parseLogFormat(undefined) ?? "auto";
  if (format === "json" || (format === "auto" && !isatty(fd))) return pino(base, pino.destination({ fd, sync: true }));
  // Synchronous, in this thread: a crash's last lines reach the terminal (a transport's worker thread may lose them).
  return pino(base, pretty({ destination: fd, sync: true, colorize: isatty(fd), translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname" }));
}

/** The --log-format flag's value, or undefined when it is not one of LOG_FORMATS. */
export function parseLogFormat(v: string | undefined): LogFormat | undefined {
  const f = v ?? (process.env.CAPIM_EDGE_LOG_FORMAT || "auto");
  return (LOG_FORMATS as readonly string[]).includes(f) ? (f as LogFormat) : undefined;
}
