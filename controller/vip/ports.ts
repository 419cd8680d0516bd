// VIP port allocation. The OS is the source of truth for "free": we try to bind and move on when it says
// EADDRINUSE, so ports held by other processes are skipped without a racy probe-then-bind.
import type { Server } from "node:net";

export const DEFAULT_PORT_RANGE: [number, number] = [20000, 30000];

export class PortRangeExhaustedError extends Error {
  constructor(range: [number, number]) {
    super(`no free port in ${range[0]}-${range[1]}`);
  }
}

/** The port a cluster's endpoint already names could not be bound (another process holds it). */
export class PortUnavailableError extends Error {
  constructor(readonly port: number) {
    super(`port ${port} is in use by another process`);
  }
}

/** `A-B` (inclusive) as a port range, or undefined when it is not one. */
export function parsePortRange(text: string): [number, number] | undefined {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(text);
  if (!m) return undefined;
  const [lo, hi] = [Number(m[1]), Number(m[2])];
  return lo >= 1 && hi <= 65535 && lo <= hi ? [lo, hi] : undefined;
}

function listenOnce(server: Server, port: number, host: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off("listening", onListening);
      if (err.code === "EADDRINUSE" || err.code === "EACCES") resolve(false);
      else reject(err);
    };
    const onListening = () => {
      server.off("error", onError);
      resolve(true);
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen({ port, host, exclusive: true });
  });
}

/**
 * Hands out ports from an inclusive range. Allocation is next-fit (a cursor walks the range) so a port just
 * released is not handed to the next cluster at once: clients of a deleted cluster then get "connection
 * refused" rather than another cluster's TLS handshake.
 */
export class PortPool {
  readonly range: [number, number];
  private readonly held = new Set<number>();
  private cursor: number;

  constructor(range: [number, number] = DEFAULT_PORT_RANGE) {
    const [lo, hi] = range;
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 1 || hi > 65535 || lo > hi) {
      throw new RangeError(`invalid port range ${lo}-${hi}`);
    }
    this.range = [lo, hi];
    this.cursor = lo;
  }

  /** Ports this pool has bound and not released. */
  get inUse(): ReadonlySet<number> {
    return this.held;
  }

  /**
   * Makes `server` listen on a free port and returns it. `preferred` (any port, even outside the range) is
   * tried first when this pool does not hold it already. With `exact`, it is the only port tried
   * (PortUnavailableError otherwise): a published endpoint must not move. Without, a port from the range
   * is used instead and the caller compares the result with what it asked for.
   */
  async listen(server: Server, host: string, preferred?: number, opts: { exact?: boolean } = {}): Promise<number> {
    if (preferred !== undefined && preferred > 0 && !this.held.has(preferred)) {
      this.held.add(preferred); // claim before awaiting: a concurrent listen must not pick it too
      if (await this.tryListen(server, preferred, host)) return preferred;
      this.held.delete(preferred);
    }
    if (opts.exact && preferred !== undefined) throw new PortUnavailableError(preferred);
    const [lo, hi] = this.range;
    const size = hi - lo + 1;
    for (let i = 0; i < size; i++) {
      const port = this.cursor;
      this.cursor = port === hi ? lo : port + 1;
      if (this.held.has(port)) continue;
      this.held.add(port);
      if (await this.tryListen(server, port, host)) return port;
      this.held.delete(port);
    }
    throw new PortRangeExhaustedError(this.range);
  }

  private async tryListen(server: Server, port: number, host: string): Promise<boolean> {
    try {
      return await listenOnce(server, port, host);
    } catch (err) {
      this.held.delete(port);
      throw err;
    }
  }

  /** Gives a port back once its server has closed. */
  release(port: number): void {
    this.held.delete(port);
  }
}
