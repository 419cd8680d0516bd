// Supervision of a local workerd: Miniflare starts workerd as a child process but neither notices nor
// reports when it dies, so `npm run edge` would keep running with its ports refusing connections and
// `npm start` would answer `503 edge unreachable` on every VIP forever. The supervisor probes the edge's
// own socket; when nothing listens there any more it restarts workerd on the same ports (the Durable
// Objects reopen their SQLite files, so acknowledged writes are kept), with backoff, and gives up
// with a clear message when workerd keeps dying.
import net from "node:net";

/** When to restart after a death, and when to stop trying. Pure: the caller supplies the clock. */
export class RestartPolicy {
  private deaths: number[] = [];
  private consecutive = 0;

  constructor(
    readonly maxDeaths: number,
    readonly windowMs: number,
    readonly minDelayMs = 250,
    readonly maxDelayMs = 8_000,
  ) {}

  /** Records a death at `now`: the delay before restarting, or "give-up" past maxDeaths in windowMs. */
  onDeath(now: number): { restartInMs: number } | "give-up" {
    this.deaths = this.deaths.filter((t) => now - t < this.windowMs);
    this.deaths.push(now);
    if (this.deaths.length > this.maxDeaths) return "give-up";
    const delay = Math.min(this.maxDelayMs, this.minDelayMs * 2 ** this.consecutive);
    this.consecutive++;
    return { restartInMs: delay };
  }

  /** The restarted process served: the next death starts the backoff from the beginning again. */
  onHealthy(): void {
    this.consecutive = 0;
  }

  /** How many deaths fall in the window ending at `now`. */
  deathsInWindow(now: number): number {
    return this.deaths.filter((t) => now - t < this.windowMs).length;
  }
}

/** The policy's limits from env CAPIM_EDGE_RESTART_MAX (default 5) and CAPIM_EDGE_RESTART_WINDOW_MS (60 s). */
export function restartPolicyFromEnv(env: NodeJS.ProcessEnv = process.env): RestartPolicy {
  const num = (v: string | undefined, d: number) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : d);
  return new RestartPolicy(num(env.CAPIM_EDGE_RESTART_MAX, 5), num(env.CAPIM_EDGE_RESTART_WINDOW_MS, 60_000));
}

/** "down" only when the port refuses connections: a busy workerd that is slow to accept is not dead. */
export function probePort(port: number, host = "127.0.0.1", timeoutMs = 2_000): Promise<"up" | "down"> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (state: "up" | "down") => {
      socket.destroy();
      resolve(state);
    };
    socket.setTimeout(timeoutMs, () => done("up"));
    socket.once("connect", () => done("up"));
    socket.once("error", (err: NodeJS.ErrnoException) => done(err.code === "ECONNREFUSED" ? "down" : "up"));
  });
}

export interface SupervisorOptions {
  /** Whether the process serves; see probePort. */
  probe(): Promise<"up" | "down">;
  /** Starts a new workerd on the same ports; resolves once it serves. */
  restart(): Promise<void>;
  policy: RestartPolicy;
  log(message: string): void;
  /** Called once when the policy gives up; the caller exits. */
  giveUp(message: string): void;
  intervalMs?: number;
}

/** Probes every intervalMs; restarts a dead workerd per the policy. stop() ends it before a dispose. */
export class Supervisor {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  restarts = 0;

  constructor(private readonly o: SupervisorOptions) {}

  start(): void {
    this.schedule(this.o.intervalMs ?? 500);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.check(), ms);
    this.timer.unref();
  }

  private async check(): Promise<void> {
    if (this.stopped) return;
    if ((await this.o.probe()) === "up") {
      this.o.policy.onHealthy();
      return this.schedule(this.o.intervalMs ?? 500);
    }
    await this.recover();
  }

  private async recover(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      const now = Date.now();
      const decision = this.o.policy.onDeath(now);
      if (decision === "give-up") {
        this.stopped = true;
        this.o.giveUp(
          `workerd died ${this.o.policy.deathsInWindow(now)} times within ${this.o.policy.windowMs / 1000} s; giving up ` +
            `(limits: CAPIM_EDGE_RESTART_MAX=${this.o.policy.maxDeaths}, CAPIM_EDGE_RESTART_WINDOW_MS=${this.o.policy.windowMs})`,
        );
        return;
      }
      this.o.log(`workerd is not serving (exited?); restarting it in ${decision.restartInMs} ms`);
      await new Promise((r) => setTimeout(r, decision.restartInMs));
      if (this.stopped) return;
      try {
        await this.o.restart();
        this.restarts++;
        this.o.log(`workerd restarted (restart ${this.restarts})`);
        return this.schedule(this.o.intervalMs ?? 500);
      } catch (err) {
        this.o.log(`workerd restart failed: ${(err as Error).message}`);
      }
    }
  }
}
