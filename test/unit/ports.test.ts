// PortPool against the real OS: ports refused with EADDRINUSE are skipped, released ports come back.
import { afterEach, describe, expect, it } from "vitest";
import net from "node:net";
import { PortPool, PortRangeExhaustedError } from "../../controller/vip/ports.js";

const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => (s.listening ? s.close(r) : r(undefined)))));
});

function server(): net.Server {
  const s = net.createServer((c) => c.destroy());
  servers.push(s);
  return s;
}
const close = (s: net.Server) => new Promise<void>((r) => s.close(() => r()));

/** `n` consecutive ports that are free right now (found by binding them), above the usual VIP range. */
async function freeRun(n: number): Promise<number> {
  for (let base = 40000 + Math.floor(Math.random() * 10000); base < 60000; base += n) {
    const held: net.Server[] = [];
    let ok = true;
    for (let p = base; p < base + n && ok; p++) {
      const s = net.createServer();
      ok = await new Promise<boolean>((r) => s.once("error", () => r(false)).listen(p, "127.0.0.1", () => r(true)));
      if (ok) held.push(s);
    }
    await Promise.all(held.map(close));
    if (ok) return base;
  }
  throw new Error("no free run of ports");
}

describe("PortPool", () => {
  it("hands out distinct ports inside the range", async () => {
    const base = await freeRun(4);
    const pool = new PortPool([base, base + 3]);
    const ports: number[] = [];
    for (let i = 0; i < 4; i++) ports.push(await pool.listen(server(), "127.0.0.1"));
    expect(new Set(ports).size).toBe(4);
    for (const p of ports) expect(p >= base && p <= base + 3).toBe(true);
    expect([...pool.inUse].sort()).toEqual([...ports].sort());
    await expect(pool.listen(server(), "127.0.0.1")).rejects.toBeInstanceOf(PortRangeExhaustedError);
  });

  it("skips a port another listener holds (EADDRINUSE) and tries the next", async () => {
    const base = await freeRun(3);
    const squatter = server();
    await new Promise<void>((r) => squatter.listen(base, "127.0.0.1", () => r()));
    const pool = new PortPool([base, base + 2]);
    expect(await pool.listen(server(), "127.0.0.1")).toBe(base + 1);
    // The requested port is taken by someone else: another one from the range is used instead.
    expect(await pool.listen(server(), "127.0.0.1", base)).toBe(base + 2);
    expect(pool.inUse.has(base)).toBe(false);
  });

  it("reuses a requested port once released, and walks on (next-fit) when none is requested", async () => {
    const base = await freeRun(3);
    const pool = new PortPool([base, base + 2]);
    const s1 = server();
    const p1 = await pool.listen(s1, "127.0.0.1");
    expect(p1).toBe(base);
    await close(s1);
    pool.release(p1);
    expect(pool.inUse.size).toBe(0);
    // Without a request, the cursor moves on rather than recycling the port just freed.
    expect(await pool.listen(server(), "127.0.0.1")).toBe(base + 1);
    // The freed port is handed back when asked for (e.g. a restart reopening a recorded VIP).
    expect(await pool.listen(server(), "127.0.0.1", p1)).toBe(p1);
    // A port this pool already holds is never handed out twice, even when requested.
    expect(await pool.listen(server(), "127.0.0.1", p1)).toBe(base + 2);
  });

  it("serializes concurrent allocations without collisions", async () => {
    const base = await freeRun(6);
    const pool = new PortPool([base, base + 5]);
    const ports = await Promise.all(Array.from({ length: 6 }, () => pool.listen(server(), "127.0.0.1")));
    expect(new Set(ports).size).toBe(6);
  });

  it("rejects invalid ranges", () => {
    expect(() => new PortPool([30000, 20000])).toThrow(RangeError);
    expect(() => new PortPool([0, 10])).toThrow(RangeError);
    expect(() => new PortPool([1, 70000])).toThrow(RangeError);
  });
});
