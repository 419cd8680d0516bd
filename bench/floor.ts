// The floor: what each hop of capim-edge's request path costs with nothing behind it, next to CAPI's
// in-memory server and capim-edge itself, under one client (Go's own HTTP transport, `sidebyside get`:
// sequential GETs of one pod, HTTP/2 over TLS where the server speaks TLS). The stand-ins answer every
// GET with the pod's bytes as the edge serves them (bench/floor-servers.ts), so a row's figure is the
// cost of its hops alone: a target below the floor of the path the design prescribes (a Node VIP per
// cluster in front of a Worker and a Durable Object per cluster) cannot be met by tuning our code.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import { bundleBenchEntry } from "./bundle.js";
import { processTree, rss, spawnEdgeProcess } from "./edge-bench.js";
import { buildGo, closeChild, jsonLines } from "./sidebyside.js";
import { freePort } from "../controller/local/capi/processes.js";
import { CONTROLLER_NODE_FLAGS } from "../controller/node-flags.js";

export interface FloorOptions {
  /** Measured GETs per row and round (after 500 to warm up). */
  requests?: number;
  /** Durable Objects (and edge clusters) made live for the memory floor. */
  objects?: number;
  rounds?: number;
  log?: (line: string) => void;
}

interface Target {
  url: string;
  ca?: string;
  cert?: string;
  key?: string;
  token?: string;
  /** The server processes whose CPU the row counts, by role. */
  processes: Record<string, number>;
}

interface Row {
  name: string;
  target: Target;
}

interface Sample {
  p50: number;
  p99: number;
  cpuMsPerRequest: Record<string, number>;
}

const VIA_VIP = "capim-edge via VIP";
const PRESCRIBED_FLOOR = "floor: our VIP -> Worker -> Durable Object, constant";
const POD_PATH = "/api/v1/namespaces/default/pods/p1";
const POD = { apiVersion: "v1", kind: "Pod", metadata: { name: "p1", namespace: "default", labels: { app: "floor" } }, spec: { containers: [{ name: "app", image: "registry.k8s.io/pause:3.10" }] } };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Creates the pod on the in-memory server (client certificate auth, its own CA). */
function createPodWithCert(server: string, ca: string, cert: string, key: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify(POD);
    const req = https.request(`${server}/api/v1/namespaces/default/pods`, { method: "POST", ca, cert, key, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on("end", () => (res.statusCode === 200 || res.statusCode === 201 ? resolve() : reject(new Error(`in-memory pod create: ${res.statusCode}`))));
    });
    req.once("error", reject);
    req.end(body);
  });
}

export async function benchFloor(opts: FloorOptions = {}): Promise<string> {
  const requests = opts.requests ?? 5000;
  const rounds = opts.rounds ?? 3;
  const log = opts.log ?? ((l: string) => console.error(l));
  const bin = buildGo();
  const dir = mkdtempSync(path.join(os.tmpdir(), "capim-floor-"));
  const children: ChildProcess[] = [];
  const edge = await spawnEdgeProcess();
  try {
    const spawnChild = (args: string[], env: NodeJS.ProcessEnv = {}, stderr: "inherit" | "ignore" = "inherit") => {
      const child = spawn(args[0], args.slice(1), { env: { ...process.env, ...env }, stdio: ["pipe", "pipe", stderr] });
      children.push(child);
      return jsonLines(child);
    };
    const file = (name: string, text: string) => {
      const p = path.join(dir, name);
      writeFileSync(p, text);
      return p;
    };

    // capim-edge: one cluster with the pod; the stand-ins serve the bytes the edge serves for it.
    const workerd = processTree(edge.pid).find((p) => p.name === "workerd")?.pid;
    if (!workerd) throw new Error("no workerd under the edge process");
    const auth = { authorization: `Bearer ${edge.token}`, "content-type": "application/json" };
    const put = await fetch(`${edge.url}/admin/clusters/bench/c0`, { method: "PUT", headers: auth });
    if (!put.ok) throw new Error(`create edge cluster: ${put.status}`);
    const created = await fetch(`${edge.url}/clusters/bench/c0/api/v1/namespaces/default/pods`, { method: "POST", headers: auth, body: JSON.stringify(POD) });
    if (created.status !== 201) throw new Error(`create edge pod: ${created.status}`);
    const podFile = file("pod.json", await (await fetch(`${edge.url}/clusters/bench/c0${POD_PATH}`, { headers: auth })).text());

    const vipEntry = await bundleBenchEntry("sidebyside-vips");
    const floorEntry = await bundleBenchEntry("floor-servers");
    /** One VIP process (the controller's VipManager) for one cluster, forwarding to `edgeUrl`. */
    const vip = async (name: string, edgeUrl: string): Promise<{ target: Omit<Target, "processes">; pid: number }> => {
      const next = spawnChild([process.execPath, ...CONTROLLER_NODE_FLAGS, vipEntry, "--edge-url", edgeUrl, "--clusters", "1"], { CAPIM_EDGE_TOKEN: edge.token });
      const { pid } = (await next()) as { pid: number };
      children.at(-1)!.stdin!.write("open\n");
      const [c] = ((await next()) as { clusters: Array<{ server: string; ca: string; cert: string; key: string }> }).clusters;
      return { target: { url: c.server + POD_PATH, ca: file(`${name}-ca.pem`, c.ca), cert: file(`${name}-cert.pem`, c.cert), key: file(`${name}-key.pem`, c.key) }, pid };
    };
    const standIn = async (args: string[]) => (await spawnChild([process.execPath, floorEntry, ...args])()) as { url: string; pid: number; ca?: string };

    // CAPI's in-memory server, one cluster, the same pod.
    const port = await freePort();
    const inmem = (await spawnChild([bin, "serve", "--clusters", "1", "--min-port", String(port), "--max-port", String(port)], {}, "ignore")()) as {
      pid: number;
      clusters: Array<{ server: string; ca: string; cert: string; key: string }>;
    };
    const ic = inmem.clusters[0];
    await createPodWithCert(ic.server, ic.ca, ic.cert, ic.key);

    const constant = await standIn(["constant", "--body", podFile]);
    const worker = await standIn(["workerd", "--body", podFile]);
    const workerDo = await standIn(["workerd", "--body", podFile, "--via-do"]);
    const proxy = await standIn(["proxy", "--upstream", constant.url]);
    const edgeVip = await vip("vip-edge", edge.url);
    const constVip = await vip("constant", constant.url);
    const workerVip = await vip("worker", worker.url);
    const workerDoVip = await vip("worker-do", workerDo.url);

    const rows: Row[] = [
      { name: "CAPI in-memory server", target: { url: ic.server + POD_PATH, ca: file("inmem-ca.pem", ic.ca), cert: file("inmem-cert.pem", ic.cert), key: file("inmem-key.pem", ic.key), processes: { "in-memory server": inmem.pid } } },
      { name: VIA_VIP, target: { ...edgeVip.target, processes: { vip: edgeVip.pid, workerd } } },
      { name: "capim-edge direct (HTTPS, bearer token)", target: { url: `${edge.httpsUrl}/clusters/bench/c0${POD_PATH}`, ca: file("edge-ca.pem", edge.caPem), token: edge.token, processes: { workerd } } },
      { name: "capim-edge direct (plain HTTP, bearer token)", target: { url: `${edge.url}/clusters/bench/c0${POD_PATH}`, token: edge.token, processes: { workerd } } },
      { name: PRESCRIBED_FLOOR, target: { ...workerDoVip.target, processes: { vip: workerDoVip.pid, workerd: workerDo.pid } } },
      { name: "floor: our VIP -> Worker, constant", target: { ...workerVip.target, processes: { vip: workerVip.pid, workerd: worker.pid } } },
      { name: "floor: our VIP -> Node constant server", target: { ...constVip.target, processes: { vip: constVip.pid, constant: constant.pid } } },
      { name: "floor: minimal Node TLS proxy -> Node constant server", target: { url: proxy.url + POD_PATH, ca: file("proxy-ca.pem", proxy.ca!), processes: { proxy: proxy.pid, constant: constant.pid } } },
      { name: "floor: Worker -> Durable Object, constant (plain HTTP)", target: { url: workerDo.url + POD_PATH, processes: { workerd: workerDo.pid } } },
      { name: "floor: Worker, constant (plain HTTP)", target: { url: worker.url + POD_PATH, processes: { workerd: worker.pid } } },
    ];

    const samples = new Map<string, Sample[]>(rows.map((r) => [r.name, []]));
    for (let round = 0; round < rounds; round++) {
      // Rotating order, so no row always runs first (JIT warm-up, the machine's state).
      for (let i = 0; i < rows.length; i++) {
        const row = rows[(i + round) % rows.length];
        log(`floor: round ${round + 1}, ${row.name}`);
        const t = row.target;
        const pids = Object.values(t.processes);
        const args = ["get", "--url", t.url, "--n", String(requests), "--pids", pids.join(",")];
        if (t.ca) args.push("--ca", t.ca);
        if (t.cert) args.push("--cert", t.cert, "--key", t.key!);
        const out = execFileSync(bin, args, { env: { ...process.env, SIDEBYSIDE_TOKEN: t.token ?? "" } }).toString();
        samples.get(row.name)!.push(JSON.parse(out) as Sample);
      }
    }

    const inmemP50 = median(samples.get(rows[0].name)!.map((s) => s.p50));
    const lines = [
      `Sequential GETs of one pod (${requests} per row and round after 500 to warm up, ${rounds} rounds in rotating order, medians),`,
      "one client: Go's net/http (HTTP/2 over TLS with the server's CA and, for VIPs and the in-memory server, a client certificate; a",
      "bearer token to the edge, whose HTTPS port passes Miniflare's entry worker and whose plain HTTP port, the one VIPs use, is a",
      "direct socket to our Worker), not client-go, so the figures are the servers' and their hops'. The",
      "`floor` rows replace what is behind a hop with a stand-in answering the same bytes and doing nothing else",
      "(bench/floor-servers.ts): what the path costs before any Kubernetes logic. CPU is per GET, from /proc, for the row's server processes.",
      "",
      "| path | GET p50 (ms) | GET p99 (ms) | p50 / in-memory | server CPU per GET (ms), by process |",
      "|---|---|---|---|---|",
    ];
    for (const row of rows) {
      const s = samples.get(row.name)!;
      const p50 = median(s.map((x) => x.p50));
      const cpu = Object.entries(row.target.processes).map(([role, pid]) => `${role} ${median(s.map((x) => x.cpuMsPerRequest[String(pid)] ?? 0)).toFixed(3)}`);
      lines.push(`| ${row.name} | ${p50.toFixed(3)} | ${median(s.map((x) => x.p99)).toFixed(3)} | ${(p50 / inmemP50).toFixed(2)}x | ${cpu.join(", ")} |`);
    }
    const p50 = (name: string) => median(samples.get(name)!.map((x) => x.p50));
    const viaVip = p50(VIA_VIP);
    const floor = p50(PRESCRIBED_FLOOR);
    lines.push(
      "",
      `The path the design prescribes (a Node VIP, then a Worker, then the cluster's Durable Object) costs ${floor.toFixed(3)} ms at p50 with`,
      `constant answers behind it: ${(floor / inmemP50).toFixed(2)}x the in-memory server's whole GET, before any Kubernetes logic. capim-edge`,
      `via its VIP adds ${(viaVip - floor).toFixed(3)} ms to that floor; the rest of its ${(viaVip / inmemP50).toFixed(2)}x is the hops themselves.`,
    );

    // Memory: what one more live Durable Object costs workerd (bare, with one SQLite row, with our cluster
    // tables), next to one more (empty, live) capim-edge cluster; each in a fresh process, 8 requests at a time.
    const objects = opts.objects ?? 500;
    const perObject = async (pid: number, urlOf: (i: number) => string, init: RequestInit = {}) => {
      const before = rss(pid);
      for (let i = 0; i < objects; i += 8) {
        const batch = Array.from({ length: Math.min(8, objects - i) }, (_, k) => fetch(urlOf(i + k), init).then(async (r) => {
          await r.arrayBuffer();
          if (!r.ok) throw new Error(`${urlOf(i + k)}: ${r.status}`);
        }));
        await Promise.all(batch);
      }
      return (rss(pid) - before) / objects / 2 ** 20;
    };
    log(`floor: memory, ${objects} live Durable Objects per row`);
    const bare = await standIn(["workerd", "--body", podFile]);
    const bareMb = await perObject(bare.pid, (i) => `${bare.url}/do/d${i}`);
    const sqlite = await standIn(["workerd", "--body", podFile]);
    const sqliteMb = await perObject(sqlite.pid, (i) => `${sqlite.url}/do/d${i}/sqlite`);
    const schema = await standIn(["workerd", "--body", podFile]);
    const schemaMb = await perObject(schema.pid, (i) => `${schema.url}/do/d${i}/schema`);
    const clusterMb = await perObject(workerd, (i) => `${edge.url}/admin/clusters/floor/m${i}`, { method: "PUT", headers: auth });
    lines.push(
      "",
      `| workerd RSS per live Durable Object (${objects} made live, 8 at a time, each in a fresh process) | MB |`,
      "|---|---|",
      `| floor: a Durable Object answering a constant, storage untouched | ${bareMb.toFixed(3)} |`,
      `| floor: a Durable Object storing one SQLite row | ${sqliteMb.toFixed(3)} |`,
      `| floor: a Durable Object with capim-edge's cluster tables, empty | ${schemaMb.toFixed(3)} |`,
      `| capim-edge: an empty cluster (admin PUT: its Durable Object, schema, token, etcd state) | ${clusterMb.toFixed(3)} |`,
      "",
      "Compare the side-by-side table's RSS per filled cluster: the in-memory server's is the whole cost of a cluster there.",
    );
    return lines.join("\n");
  } finally {
    await Promise.all(children.map(closeChild));
    await edge.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
