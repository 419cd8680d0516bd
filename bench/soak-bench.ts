// Memory soak of the edge: a steady mixed load (create, get, list by label, merge patch, delete, short
// watches) on many clusters for several minutes, sampling workerd's RSS, then an idle period. A shared
// edge runs for days: its memory has to flatten under a steady load and come back down when idle.
// Criteria (issue: bounded memory): RSS at the end within 15% of its value after the first minute, and
// within 10% of it after 60 s idle.
import http from "node:http";
import { freePort } from "../controller/local/capi/processes.js";
import WebSocket from "ws";
import { client, spawnEdgeProcess, treeRss } from "./edge-bench.js";
import { mb } from "./report.js";

export interface SoakOptions {
  clusters?: number;
  durationMs?: number;
  idleMs?: number;
  concurrency?: number;
  /** Sample the worker's JS heap over workerd's inspector (default true). */
  inspector?: boolean;
  /** Include the 1 s watches in the mix (default true; off, a GET takes their turn). */
  watches?: boolean;
  log?: (line: string) => void;
}

const RING = 20; // ConfigMaps per cluster the load cycles through, so the stored data stays the same size

export async function benchSoak(opts: SoakOptions = {}): Promise<string> {
  const CLUSTERS = opts.clusters ?? 50;
  const DURATION = opts.durationMs ?? 5 * 60_000;
  const IDLE = opts.idleMs ?? 60_000;
  const CONCURRENCY = opts.concurrency ?? 8;
  const log = opts.log ?? ((l: string) => console.error(l));
  // workerd's inspector tells the JS heap (what our code keeps alive) apart from the rest of its RSS.
  const inspectorPort = opts.inspector === false ? 0 : await freePort();
  const edge = await spawnEdgeProcess(inspectorPort ? { CAPIM_EDGE_INSPECTOR_PORT: String(inspectorPort) } : {});
  const c = client(edge.url, edge.token, CONCURRENCY);
  const workerdRss = () => treeRss(edge.pid).workerd ?? 0;
  const heaps: Array<{ t: number; used: number; total: number }> = [];
  try {
    for (let i = 0; i < CLUSTERS; i++) {
      const r = await c.request("PUT", `/admin/clusters/soak/c-${i}`);
      if (r.status >= 300) throw new Error(`create cluster: ${r.status} ${r.body}`);
    }
    const start = workerdRss();
    const samples: Array<{ t: number; rss: number }> = [];
    const counts = { requests: 0, errors: 0, watches: 0 };
    const t0 = Date.now();
    let stop = false;
    const sampler = setInterval(() => {
      samples.push({ t: Date.now() - t0, rss: workerdRss() });
      if (inspectorPort) void userHeap(inspectorPort).then((h) => h && heaps.push({ t: Date.now() - t0, ...h }));
    }, 5_000);

    const cm = (name: string, i: number) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, labels: { ring: String(i % 4) } }, data: { i: String(i), pad: "x".repeat(512) } });
    let seq = 0;
    const worker = async () => {
      while (!stop) {
        const n = seq++;
        const base = `/clusters/soak/c-${n % CLUSTERS}/api/v1/namespaces/default/configmaps`;
        const name = `s-${Math.floor(n / CLUSTERS) % RING}`;
        let r;
        switch (n % 7) {
          case 0:
            r = await c.request("POST", base, cm(name, n));
            break;
          case 1:
            r = await c.request("GET", `${base}/${name}`);
            break;
          case 2:
            r = await c.request("GET", `${base}?labelSelector=ring%3D${n % 4}`);
            break;
          case 3:
            r = await c.request("PATCH", `${base}/${name}`, { data: { n: String(n) } }, "application/merge-patch+json");
            break;
          case 4:
            r = await c.request("DELETE", `${base}/${name}`);
            break;
          case 5:
            if (opts.watches === false) {
              r = await c.request("GET", `${base}/${name}`);
              break;
            }
            r = await shortWatch(edge.url, edge.token, base);
            counts.watches++;
            break;
          default:
            r = await c.request("GET", `${base}?limit=5`);
        }
        counts.requests++;
        // 404/409 are part of the cycle (a name deleted or created by another step); anything else is not.
        if (r.status >= 300 && r.status !== 404 && r.status !== 409) counts.errors++;
      }
    };
    log(`soak: ${CLUSTERS} clusters, ${CONCURRENCY} workers, ${DURATION / 1000} s`);
    const running = Promise.all(Array.from({ length: CONCURRENCY }, worker));
    await new Promise((r) => setTimeout(r, DURATION));
    stop = true;
    await running;
    const end = workerdRss();
    log(`soak: idle ${IDLE / 1000} s`);
    await new Promise((r) => setTimeout(r, IDLE));
    clearInterval(sampler);
    const idle = workerdRss();
    const atMinute = samples.find((s) => s.t >= 60_000)?.rss ?? samples[0]?.rss ?? start;
    const peak = Math.max(...samples.map((s) => s.rss));
    const pct = (a: number, b: number) => `${(((a - b) / b) * 100).toFixed(1)}%`;
    const endOk = Math.abs(end - atMinute) <= 0.15 * atMinute;
    const idleOk = Math.abs(idle - atMinute) <= 0.1 * atMinute;
    const elapsed = DURATION / 1000;
    const curve = samples.filter((_, i) => i % 6 === 0).map((s) => `${Math.round(s.t / 1000)} s: ${mb(s.rss)}`).join(", ");
    const heapCurve = heaps.filter((_, i) => i % 6 === 0).map((h) => `${Math.round(h.t / 1000)} s: ${mb(h.used)} / ${mb(h.total)}`).join(", ");
    const maxUsed = Math.max(0, ...heaps.map((h) => h.used));
    return [
      `${CLUSTERS} clusters on one local edge (\`npm run edge\`'s bundle), ${CONCURRENCY} keep-alive workers for ${elapsed} s: POST, GET, LIST by label, merge PATCH, DELETE, a 1 s watch and a paged LIST`,
      `on a ring of ${RING} ConfigMaps (~0.6 KB) per cluster, then ${IDLE / 1000} s idle. ${counts.requests} requests (${Math.round(counts.requests / elapsed)}/s), ${counts.watches} watches, ${counts.errors} unexpected statuses.`,
      "",
      "| workerd RSS | MB | vs. after 1 min |",
      "|---|---|---|",
      `| clusters created, before load | ${mb(start)} | |`,
      `| after 1 min | ${mb(atMinute)} | |`,
      `| peak | ${mb(peak)} | ${pct(peak, atMinute)} |`,
      `| end of load | ${mb(end)} | ${pct(end, atMinute)} |`,
      `| after ${IDLE / 1000} s idle | ${mb(idle)} | ${pct(idle, atMinute)} |`,
      "",
      `Every 30 s: ${curve}.`,
      "",
      `The worker's JS heap (all Durable Objects share it), used / V8's total, from workerd's inspector every 30 s: ${heapCurve || "n/a"}; at most ${mb(maxUsed)} used.`,
      "",
      `Targets: end within 15% of the 1-minute value: **${endOk ? "met" : "missed"}**; after idling within 10% of it: **${idleOk ? "met" : "missed"}**.`,
    ].join("\n");
  } finally {
    c.close();
    await edge.stop();
  }
}

/** A watch that the server ends after 1 s (timeoutSeconds), read to its end like an informer's. */
function shortWatch(url: string, token: string, path: string): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.get({ host: u.hostname, port: u.port, path: `${path}?watch=true&timeoutSeconds=1`, headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0 }));
      res.on("error", reject);
    });
    req.on("error", reject);
  });
}

/** The user worker's V8 heap (Runtime.getHeapUsage over the inspector), or undefined when unavailable. */
async function userHeap(port: number): Promise<{ used: number; total: number } | undefined> {
  try {
    const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{ title: string; webSocketDebuggerUrl: string }>;
    const target = targets.find((t) => t.title.includes("core:user:"));
    if (!target) return undefined;
    const ws = new WebSocket(target.webSocketDebuggerUrl);
    try {
      await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
      const result = await new Promise<{ usedSize: number; totalSize: number }>((resolve, reject) => {
        ws.on("message", (m) => {
          const msg = JSON.parse(String(m)) as { id?: number; result?: { usedSize: number; totalSize: number } };
          if (msg.id === 1 && msg.result) resolve(msg.result);
        });
        ws.once("error", reject);
        ws.send(JSON.stringify({ id: 1, method: "Runtime.getHeapUsage" }));
      });
      return { used: result.usedSize, total: result.totalSize };
    } finally {
      ws.close();
    }
  } catch {
    return undefined;
  }
}
