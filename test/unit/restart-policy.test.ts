// The supervisor's restart policy: exponential backoff from 250 ms to 8 s, reset once a restarted
// workerd serves, and giving up past the allowed deaths within the window.
import { describe, expect, it } from "vitest";
import { RestartPolicy, restartPolicyFromEnv } from "../../controller/local/supervisor.js";

describe("restart policy", () => {
  it("backs off 250 ms, 500 ms, 1 s ... capped at 8 s", () => {
    const p = new RestartPolicy(100, 1_000_000);
    const delays = Array.from({ length: 8 }, (_, i) => p.onDeath(i));
    expect(delays).toEqual([250, 500, 1000, 2000, 4000, 8000, 8000, 8000].map((restartInMs) => ({ restartInMs })));
  });

  it("starts over after a healthy probe", () => {
    const p = new RestartPolicy(100, 1_000_000);
    p.onDeath(0);
    p.onDeath(1);
    p.onHealthy();
    expect(p.onDeath(2)).toEqual({ restartInMs: 250 });
  });

  it("gives up on the death past maxDeaths within the window, and forgets deaths older than it", () => {
    const p = new RestartPolicy(2, 60_000);
    expect(p.onDeath(0)).not.toBe("give-up");
    expect(p.onDeath(30_000)).not.toBe("give-up");
    expect(p.onDeath(59_999)).toBe("give-up");
    const q = new RestartPolicy(2, 60_000);
    q.onDeath(0);
    q.onDeath(30_000);
    expect(q.onDeath(60_000)).not.toBe("give-up"); // the first death left the window
    expect(q.deathsInWindow(60_000)).toBe(2);
  });

  it("reads its limits from the environment, ignoring malformed values", () => {
    expect(restartPolicyFromEnv({ CAPIM_EDGE_RESTART_MAX: "3", CAPIM_EDGE_RESTART_WINDOW_MS: "1000" })).toMatchObject({ maxDeaths: 3, windowMs: 1000 });
    expect(restartPolicyFromEnv({ CAPIM_EDGE_RESTART_MAX: "x" })).toMatchObject({ maxDeaths: 5, windowMs: 60_000 });
  });
});
