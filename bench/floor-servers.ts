// The floor benchmark's stand-ins (bench/floor.ts), one per process so that each one's CPU is its own.
// Each answers every GET with the same bytes (a pod as the real edge serves it) and does nothing else, so
// what it costs is what the hop costs with no Kubernetes logic behind it:
//   constant --body F            a plain node:http server (the cheapest upstream there is)
//   proxy --upstream URL         an HTTP/2 TLS server forwarding each request through a node:http keep-alive
//                                agent: the least a Node VIP can do (no client certs, metrics or checks)
//   workerd --body F [--via-do]  a Worker on workerd's direct socket (as the edge runs), answering itself or
//                                through one SQLite-backed Durable Object, as the edge routes a request;
//                                `/do/<name>[/sqlite|/schema]` reaches the object <name> (storing one row, or
//                                creating capim-edge's cluster tables), for the memory a live Durable Object costs
// Prints {"url","pid"[,"ca"]} as one JSON line; exits when stdin closes.
import http from "node:http";
import http2 from "node:http2";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { Miniflare } from "miniflare";
import { generateCA, issueCert } from "../controller/pki/index.js";
import { COMPATIBILITY_DATE } from "../controller/local/edge.js";
import { processTree } from "./edge-bench.js";
import { WORKLOAD_CLUSTER_BASELINE } from "../durable-objects/schema.js";

/** The tables a new capim-edge cluster gets, for `/do/<name>/schema`. */
const CLUSTER_SCHEMA = WORKLOAD_CLUSTER_BASELINE.up;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { body: { type: "string" }, upstream: { type: "string" }, "via-do": { type: "boolean" } },
});
const emit = (o: Record<string, unknown>) => process.stdout.write(JSON.stringify(o) + "\n");
const body = values.body ? readFileSync(values.body, "utf8") : "";
const jsonHeaders = { "content-type": "application/json", "content-length": Buffer.byteLength(body) };
let stop = async () => {};

function listen(server: http.Server | http2.Http2SecureServer): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)));
}

switch (positionals[0]) {
  case "constant": {
    const server = http.createServer((_req, res) => {
      res.writeHead(200, jsonHeaders);
      res.end(body);
    });
    emit({ url: `http://127.0.0.1:${await listen(server)}`, pid: process.pid });
    break;
  }
  case "proxy": {
    const upstream = new URL(values.upstream!);
    const agent = new http.Agent({ keepAlive: true, maxFreeSockets: 256, scheduling: "lifo" });
    const ca = await generateCA("floor", { rsa: false });
    const serving = await issueCert(ca, { commonName: "127.0.0.1", ipAddresses: ["127.0.0.1"], usage: "server" });
    const hopByHop = new Set(["connection", "keep-alive", "transfer-encoding"]);
    const server = http2.createSecureServer({ allowHTTP1: true, cert: serving.certPem, key: serving.keyPem }, (req, res) => {
      const up = http.request({ hostname: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: { accept: "application/json" }, agent }, (u) => {
        const headers: http.OutgoingHttpHeaders = {};
        for (const [k, v] of Object.entries(u.headers)) if (!hopByHop.has(k)) headers[k] = v;
        res.writeHead(u.statusCode ?? 502, headers);
        u.pipe(res);
      });
      up.on("error", () => res.destroy());
      req.pipe(up);
    });
    emit({ url: `https://127.0.0.1:${await listen(server)}`, pid: process.pid, ca: ca.certPem });
    break;
  }
  case "workerd": {
    const respond = `new Response(BODY, { headers: { "content-type": "application/json" } })`;
    const script = `
      import { DurableObject } from "cloudflare:workers";
      const BODY = ${JSON.stringify(body)};
      export class Floor extends DurableObject {
        async fetch(req) {
          // /do/<name>/sqlite: the least a cluster's object stores (one table, one row), for the memory floor.
          // /do/<name>/schema: capim-edge's cluster tables, empty (what its schema alone costs).
          if (req.url.endsWith("/schema")) for (const stmt of ${JSON.stringify(CLUSTER_SCHEMA)}) this.ctx.storage.sql.exec(stmt);
          if (req.url.endsWith("/sqlite")) {
            this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS floor (k TEXT PRIMARY KEY, v TEXT)");
            this.ctx.storage.sql.exec("INSERT OR REPLACE INTO floor VALUES ('k', ?)", BODY);
          }
          return ${respond};
        }
      }
      export default { async fetch(req, env) {
        const path = new URL(req.url).pathname;
        if (path.startsWith("/do/")) return env.FLOOR.get(env.FLOOR.idFromName(path.split("/")[2])).fetch(req);
        ${values["via-do"] ? `return env.FLOOR.get(env.FLOOR.idFromName("c0")).fetch(new Request("http://do/", { headers: req.headers }));` : `return ${respond};`}
      } };`;
    const mf = new Miniflare({
      modules: true,
      script,
      compatibilityDate: COMPATIBILITY_DATE,
      durableObjects: { FLOOR: { className: "Floor", useSQLite: true } },
      host: "127.0.0.1",
      port: 0,
      unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
    });
    await mf.ready;
    const url = (await mf.unsafeGetDirectURL()).href.replace(/\/$/, "");
    const workerd = processTree(process.pid).find((p) => p.name === "workerd");
    if (!workerd) throw new Error("no workerd under this process");
    stop = () => mf.dispose();
    emit({ url, pid: workerd.pid });
    break;
  }
  default:
    console.error("usage: floor-servers constant|proxy|workerd [--body F] [--upstream URL] [--via-do]");
    process.exit(2);
}

process.stdin.resume();
process.stdin.on("end", () => void stop().finally(() => process.exit(0)));
