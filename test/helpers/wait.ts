// Waiting on a condition of a real system, the one way tests here wait (never a sleep as proof).
import { connect } from "node:net";

/** Wait until `fn` returns a truthy value (errors count as "not yet"); the deadline only bounds a hang. */
export async function until<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as T;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message ?? last}` : ""}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Whether 127.0.0.1:`port` refuses a TCP connection (a closed listener). */
export function portRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port }, () => {
      s.destroy();
      resolve(false);
    });
    s.once("error", (e: NodeJS.ErrnoException) => resolve(e.code === "ECONNREFUSED"));
  });
}
