// Structured logs: pino JSON lines on stdout (or a given destination), level from LOG_LEVEL (default info).
import { pino, type Logger, type DestinationStream } from "pino";

export type { Logger };

export function createLogger(opts: { name?: string; level?: string; destination?: DestinationStream } = {}): Logger {
  const level = opts.level ?? process.env.LOG_LEVEL ?? "info";
  return pino({ name: opts.name ?? "capim-edge", level, base: { pid: process.pid } }, opts.destination);
}
