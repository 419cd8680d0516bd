// A rate-limited work queue with client-go's semantics: a key is queued at most once, never handled
// by two workers at once (a key added while in flight is re-run after), delayed adds keep the
// earliest due time, and failures back off exponentially per key.

export type Handler = (key: string) => Promise<{ requeueAfterMs?: number } | void>;

export interface QueueOptions {
  concurrency: number;
  handler: Handler;
  /** Called after every run, for metrics and logs; `failures` counts the key's failed runs in a row (0 after a success). */
  onResult?: (key: string, result: "success" | "requeue" | "error", seconds: number, err?: unknown, failures?: number) => void;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly active = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly delayed = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly failures = new Map<string, number>();
  private running = 0;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly opts: QueueOptions) {}

  get length(): number {
    return this.queue.length;
  }

  add(key: string, afterMs = 0): void {
    if (this.stopped) return;
    if (afterMs > 0) {
      const at = Date.now() + afterMs;
      const prev = this.delayed.get(key);
      if (prev && prev.at <= at) return;
      if (prev) clearTimeout(prev.timer);
      const timer = setTimeout(() => {
        this.delayed.delete(key);
        this.add(key);
      }, afterMs);
      timer.unref?.();
      this.delayed.set(key, { at, timer });
      return;
    }
    if (this.active.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.pump();
  }

  /** Resolves when nothing is queued or running (delayed keys do not count). */
  idle(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Stop taking work; resolves when in-flight handlers finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const d of this.delayed.values()) clearTimeout(d.timer);
    this.delayed.clear();
    this.queue.length = 0;
    this.queued.clear();
    await this.idle();
  }

  private pump(): void {
    while (!this.stopped && this.running < this.opts.concurrency && this.queue.length > 0) {
      const key = this.queue.shift()!;
      this.queued.delete(key);
      this.active.add(key);
      this.running++;
      void this.run(key);
    }
    if (this.running === 0 && this.queue.length === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private async run(key: string): Promise<void> {
    const started = performance.now();
    let retryMs: number | undefined;
    try {
      const res = await this.opts.handler(key);
      this.failures.delete(key);
      retryMs = res?.requeueAfterMs;
      this.opts.onResult?.(key, retryMs !== undefined ? "requeue" : "success", (performance.now() - started) / 1000, undefined, 0);
    } catch (err) {
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      retryMs = Math.min(this.opts.maxBackoffMs ?? 60_000, (this.opts.baseBackoffMs ?? 200) * 2 ** (n - 1));
      this.opts.onResult?.(key, "error", (performance.now() - started) / 1000, err, n);
    } finally {
      this.active.delete(key);
      this.running--;
    }
    if (this.dirty.delete(key)) this.add(key);
    if (retryMs !== undefined) this.add(key, Math.max(1, retryMs));
    this.pump();
  }
}
