// Edge benchmark: latency of GET/LIST through worker -> DO -> SQLite, write throughput, watch
// delivery latency, and memory with many clusters. Drives a local edge (edge-main.ts, own process) over real HTTP with
// keep-alive, like a client would. Timings are measured here, never asserted in tests.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import http from "node:http";
import https from "node:https";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { mb, ms, percentile, timed } from "./report.js";

export interface EdgeBenchOptions {
  /** Sequential requests per latency measurement (default 2000). */
  requests?: number;
  /** Clusters and objects per cluster for the memory measurement (default 1000 x 30). */
  clusters?: number;
  objectsPerCluster?: number;
  /** Concurrent connections used to fill the clusters (default 8). */
  fillConcurrency?: number;
  log?: (line: string) => void;
}

interface Res {
  status: number;
  body: string;
}

/** A keep-alive HTTP client with `sockets` connections to one origin. */
export function client(base: string, token: string, sockets = 1, caPem?: string) {
  const url = new URL(base);
  const secure = url.protocol === "https:";
  const agent = secure ? new https.Agent({ keepAlive: true, maxSockets: sockets, ca: caPem }) : new http.Agent({ keepAlive: true, maxSockets: sockets });
  const send = secure ? https.request : http.request;
  let resets = 0;
  function request(method: string, path: string, body?: unknown, contentType = "application/json", retried = false): Promise<Res> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
      const req = send(
        {
          agent,
          host: url.hostname,
          port: url.port,
          method,
          path,
          headers: {
            authorization: `Bearer ${token}`,
            ...(payload !== undefined ? { "content-type": contentType, "content-length": Buffer.byteLength(payload) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
          res.on("error", reject);
        },
      );
      req.on("error", (err) => {
        // A keep-alive socket the server closed while we reused it: count it and retry once.
        if ((err as NodeJS.ErrnoException).code === "ECONNRESET" && !retried) {
          resets++;
          resolve(request(method, path, body, contentType, true));
        } else reject(err);
      });
      req.end(payload);
    });
  }
  return { request, agent, close: () => agent.destroy(), resets: () => resets };
}

async function expectOk(p: Promise<Res>, what: string): Promise<Res> {
  const r = await p;
  if (r.status < 200 || r.status >= 300) throw new Error(`${what}: ${r.status} ${r.body.slice(0, 300)}`);
  return r;
}

/** Runs `total` calls over `concurrency` workers; returns elapsed ms. */
async function parallel(total: number, concurrency: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < total; i = next++) await fn(i);
    }),
  );
  return performance.now() - t;
}

/** The edge as its own process (what `npm run edge` runs), so its RSS is not mixed with the client's. */
export async function spawnEdgeProcess(extraEnv: NodeJS.ProcessEnv = {}): Promise<{ url: string; httpsUrl: string; caPem: string; token: string; pid: number; stop(): Promise<void> }> {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  const stateDir = mkdtempSync(path.join(os.tmpdir(), "capim-bench-"));
  const token = randomBytes(18).toString("hex");
  // What `npm run edge` runs: the bundle `npm run bench` builds (npm run build:edge), under plain node.
  const main = path.join(root, "dist/edge/edge-main.js");
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build:edge\` (npm run bench does)`);
  const child = spawn(process.execPath, [main, "--port", "0", "--state-dir", stateDir], {
    cwd: root,
    env: { ...process.env, ...extraEnv, CAPIM_EDGE_TOKEN: token },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  let out = "";
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on("data", (b: Buffer) => {
      out += b.toString();
      const m = /^edge ready at (\S+)$/m.exec(out);
      if (m) resolve(m[1]);
    });
    void exited.then(() => reject(new Error(`edge exited before ready:\n${out}`)));
  });
  return {
    url,
    httpsUrl: /^edge https at (\S+)/m.exec(out)![1],
    caPem: readFileSync(path.join(stateDir, "edge-tls", "ca.crt"), "utf8"),
    token,
    pid: child.pid!,
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** `pid` and all its descendants, with their command names. */
export function processTree(pid: number): Array<{ pid: number; name: string }> {
  const parent = new Map<number, number>();
  const names = new Map<number, string>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const m = /^\d+ \((.*)\) \S (\d+)/.exec(readFileSync(`/proc/${d}/stat`, "utf8"));
      if (m) {
        parent.set(Number(d), Number(m[2]));
        names.set(Number(d), m[1]);
      }
    } catch {
      /* exited */
    }
  }
  const out = [{ pid, name: names.get(pid) ?? "?" }];
  for (let i = 0; i < out.length; i++) {
    for (const [p, pp] of parent) if (pp === out[i].pid) out.push({ pid: p, name: names.get(p) ?? "?" });
  }
  return out;
}

/** RSS of the edge's process tree by command name (node, workerd, esbuild). */
export function treeRss(pid: number): Record<string, number> {
  const by: Record<string, number> = {};
  for (const p of processTree(pid)) {
    try {
      by[p.name] = (by[p.name] ?? 0) + rss(p.pid);
    } catch {
      /* exited */
    }
  }
  return by;
}

export function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : 0;
}

function pod(name: string, labels: Record<string, string>) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels },
    spec: { containers: [{ name: "app", image: "registry.k8s.io/pause:3.10", ports: [{ containerPort: 8080 }] }], nodeName: "node-1" },
  };
}

const stats = (xs: number[]) => `${ms(percentile(xs, 50))} | ${ms(percentile(xs, 99))} | ${ms(xs[xs.length - 1])}`;

export async function runEdgeBench(opts: EdgeBenchOptions = {}): Promise<string> {
  const N = opts.requests ?? 2000;
  const CLUSTERS = opts.clusters ?? 1000;
  const OBJECTS = opts.objectsPerCluster ?? 30;
  const FILL = opts.fillConcurrency ?? 8;
  const log = opts.log ?? ((l: string) => console.error(l));
  const edge = await spawnEdgeProcess();
  const lines: string[] = [];
  try {
    const c = client(edge.url, edge.token);
    await expectOk(c.request("PUT", "/admin/clusters/bench/latency"), "create cluster");
    const base = "/clusters/bench/latency/api/v1/namespaces/default";

    // ---- latency: GET one object, LIST 100 pods by label ---------------------------------------
    await expectOk(c.request("POST", `${base}/configmaps`, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "one" }, data: { k: "v" } }), "cm");
    for (let i = 0; i < 200; i++) {
      await expectOk(c.request("POST", `${base}/pods`, pod(`p-${i}`, { app: i % 2 ? "bench-a" : "bench-b", i: String(i) })), "pod");
    }
    const listPath = `${base}/pods?labelSelector=${encodeURIComponent("app=bench-a")}`;
    const listed = JSON.parse((await expectOk(c.request("GET", listPath), "list")).body);
    if (listed.items.length !== 100) throw new Error(`list returned ${listed.items.length} pods, expected 100`);
    for (let i = 0; i < 200; i++) await c.request("GET", `${base}/configmaps/one`); // warm-up
    log(`GET one object x${N}`);
    const get = await timed(N, () => expectOk(c.request("GET", `${base}/configmaps/one`), "get"));
    log(`LIST 100 pods x${N}`);
    const list = await timed(N, () => expectOk(c.request("GET", listPath), "list"));
    const healthz = await timed(N, () => c.request("GET", "/healthz"));
    // kubectl's path: the HTTPS port (Miniflare's entry worker, TLS in workerd), its own keep-alive connection.
    const cs = client(edge.httpsUrl, edge.token, 1, edge.caPem);
    for (let i = 0; i < 200; i++) await cs.request("GET", `${base}/configmaps/one`); // warm-up
    const getTls = await timed(N, () => expectOk(cs.request("GET", `${base}/configmaps/one`), "get https"));
    cs.close();

    // ---- writes ---------------------------------------------------------------------------------
    log("writes");
    const W = Math.min(N, 1000);
    const post = await timed(W, (i) => expectOk(c.request("POST", `${base}/configmaps`, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: `w-${i}` }, data: { i: String(i) } }), "post"));
    const put = await timed(W, (i) =>
      expectOk(c.request("PUT", `${base}/configmaps/w-${i}`, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: `w-${i}` }, data: { i: String(i), u: "1" } }), "put"),
    );
    const c8 = client(edge.url, edge.token, 8);
    const par = await parallel(W, 8, (i) =>
      expectOk(c8.request("PATCH", `${base}/configmaps/w-${i}`, { data: { p: "1" } }, "application/merge-patch+json"), "patch"),
    );
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

    // ---- watch delivery latency -------------------------------------------------------------------
    log("watch latency");
    await expectOk(c.request("POST", `${base}/configmaps`, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "watched" }, data: { n: "0" } }), "cm");
    const rv = JSON.parse((await c.request("GET", `${base}/configmaps`)).body).metadata.resourceVersion;
    const waiting = new Map<string, (t: bigint) => void>();
    const watchReq = http.get(
      { host: "127.0.0.1", port: new URL(edge.url).port, path: `${base}/configmaps?watch=true&resourceVersion=${rv}&fieldSelector=metadata.name%3Dwatched`, headers: { authorization: `Bearer ${edge.token}` } },
      (res) => {
        let buf = "";
        res.on("error", () => {}); // ended by watchReq.destroy() below
        res.on("data", (chunk: Buffer) => {
          const t = process.hrtime.bigint();
          buf += chunk.toString();
          let nl: number;
          while ((nl = buf.indexOf("\n")) >= 0) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (!line) continue;
            const ev = JSON.parse(line);
            const n = ev.object?.data?.n;
            if (n !== undefined) waiting.get(n)?.(t);
          }
        });
      },
    );
    watchReq.on("error", () => {}); // ended by watchReq.destroy() below
    await new Promise((r) => setTimeout(r, 200));
    const WN = Math.min(N, 500);
    const watchLat: number[] = [];
    for (let i = 1; i <= WN; i++) {
      const seen = new Promise<bigint>((resolve) => waiting.set(String(i), resolve));
      const t0 = process.hrtime.bigint();
      await expectOk(c.request("PATCH", `${base}/configmaps/watched`, { data: { n: String(i) } }, "application/merge-patch+json"), "patch");
      const t1 = await seen;
      watchLat.push(Number(t1 - t0) / 1e6);
      waiting.delete(String(i));
    }
    watchLat.sort((a, b) => a - b);
    watchReq.destroy();

    lines.push(
      `Latency: ${N} sequential requests each, one keep-alive connection, Node http client (this process), against`,
      "the edge started as its own process, as `npm run edge` runs it (`node dist/edge/edge-main.js`, the esbuild bundle of `edge-main.ts`, supervising workerd),",
      "on its plain-HTTP port (workerd's socket straight to the worker) unless the row says HTTPS (workerd's TLS socket and Miniflare's entry worker, as kubectl reaches it).",
      "",
      "| request | p50 | p99 | max |",
      "|---|---|---|---|",
      `| GET one ConfigMap (worker -> DO -> memory, SQLite-backed) | ${stats(get)} |`,
      `| GET one ConfigMap over HTTPS (kubectl's path) | ${stats(getTls)} |`,
      `| LIST 100 of 200 pods, labelSelector app=bench-a | ${stats(list)} |`,
      `| GET /healthz (worker only, no DO) | ${stats(healthz)} |`,
      `| POST ConfigMap (SQLite write) | ${stats(post)} |`,
      `| PUT ConfigMap (SQLite write) | ${stats(put)} |`,
      `| watch delivery: PATCH sent -> event received on an open watch (${WN} writes) | ${stats(watchLat)} |`,
      "",
      `Writes/s: POST ${(W / (sum(post) / 1000)).toFixed(0)}/s and PUT ${(W / (sum(put) / 1000)).toFixed(0)}/s sequential; ` +
        `merge PATCH with 8 connections ${(W / (par / 1000)).toFixed(0)}/s (all to one cluster DO).`,
      "",
    );
    c.close();
    c8.close();

    // ---- memory with many clusters ---------------------------------------------------------------
    log(`memory: ${CLUSTERS} clusters x ${OBJECTS} objects`);
    const before = treeRss(edge.pid);
    const cf = client(edge.url, edge.token, FILL);
    const tFill = await parallel(CLUSTERS, FILL, async (i) => {
      const name = `c-${i}`;
      await expectOk(cf.request("PUT", `/admin/clusters/mem/${name}`), "create");
      for (let j = 0; j < OBJECTS; j++) {
        await expectOk(
          cf.request("POST", `/clusters/mem/${name}/api/v1/namespaces/default/configmaps`, {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: `cm-${j}`, labels: { cluster: name } },
            data: { key: `value-${i}-${j}`, more: "x".repeat(64) },
          }),
          "fill",
        ).catch((e: Error) => {
          // A retried POST may find its first attempt stored.
          if (!/^fill: 409 /.test(e.message)) throw e;
        });
      }
      if ((i + 1) % 100 === 0) log(`  ${i + 1} clusters`);
    });
    const after = treeRss(edge.pid);
    await new Promise((r) => setTimeout(r, 15_000)); // idle DOs are evicted after ~10 s
    const idle = treeRss(edge.pid);
    // Wake idle clusters: an evicted DO's constructor reloads it from SQLite.
    const WAKE = Math.min(100, CLUSTERS);
    const step = Math.floor(CLUSTERS / WAKE);
    const wake = await timed(WAKE, (i) => expectOk(cf.request("GET", `/clusters/mem/c-${i * step}/api/v1/namespaces/default/configmaps/cm-0`), "wake"));
    cf.close();
    const total = sum(Object.values(after));
    const row = (when: string, r: Record<string, number>, bold = false) => {
      const t = mb(sum(Object.values(r)));
      return `| ${when} | ${mb(r.workerd ?? 0)} | ${mb(r.node ?? 0)} | ${mb(sum(Object.entries(r).filter(([k]) => k !== "workerd" && k !== "node").map(([, v]) => v)))} | ${bold ? `**${t}**` : t} |`;
    };
    const resets = cf.resets() + c.resets() + c8.resets();
    lines.push(
      `Memory: ${CLUSTERS} clusters created through the admin API, ${OBJECTS} ConfigMaps each (${CLUSTERS * OBJECTS} POSTs over ${FILL} connections, ` +
        `${(tFill / 1000).toFixed(1)} s, ${((CLUSTERS * (OBJECTS + 1)) / (tFill / 1000)).toFixed(0)} req/s), after the latency runs above. ` +
        "RSS from /proc of the edge's whole process tree: node (edge-main: Miniflare host), workerd, other (any further child, e.g. an esbuild service).",
      "",
      "| when | workerd RSS | node RSS | other | sum |",
      "|---|---|---|---|---|",
      row("before", before),
      row(`after creating ${CLUSTERS} clusters`, after, true),
      row("after 15 s idle (DO eviction)", idle),
      "",
      `First request to a cluster after 15 s idle (evicted DO: the constructor reloads ${OBJECTS} objects from SQLite), ${WAKE} clusters: p50 ${ms(percentile(wake, 50))}, p99 ${ms(percentile(wake, 99))}.`,
      "",
      ...(resets ? [`Connection resets retried: ${resets}.`, ""] : []),
      `Targets: GET p99 < 5 ms: **${percentile(get, 99) < 5 ? "met" : "missed"}** (${ms(percentile(get, 99))}); ` +
        `${CLUSTERS} clusters < 600 MB: **${total < 600 * 2 ** 20 ? "met" : "missed"}** (${mb(total)}).`,
    );
    return lines.join("\n");
  } finally {
    await edge.stop();
  }
}
