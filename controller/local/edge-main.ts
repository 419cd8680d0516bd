// `npm run edge -- [--port P] [--https-port Q] [--state-dir DIR] [--max-body BYTES]`: runs the local
// edge until SIGINT/SIGTERM: plain HTTP on P, HTTPS on Q (default P + 1, or a free port when P is 0). Token: env CAPIM_EDGE_TOKEN (tenant "default"), or env CAPIM_EDGE_TOKENS (JSON
// token -> tenant), else a generated one that is printed. Prints `edge https at <url>`, then `edge ready at <url>` once serving.
// `--edges K`: K workerd processes (state in DIR, DIR-1, ...; ports P, P+2, ... when P is given), one token
// set for all; prints `edges: <url0> <url1> ...` before the ready line. A cluster lives in the process its
// FNV-1a of namespace/name mod K picks (edge-contract/cluster-hash.ts): give the controller all of them
// (`--edge-url URL0,URL1,...`), which routes each cluster's calls there.
// `npm run edge` runs it bundled (dist/edge/edge-main.js, `npm run build:edge`) with plain node: tsx's
// loader and its esbuild service would add ~80 MB to a process that only supervises workerd.
import "./edge-node-flags.js";
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    "https-port": { type: "string" },
    "state-dir": { type: "string", default: ".state/edge" },
    "max-body": { type: "string" },
    edges: { type: "string", default: "1" },
    help: { type: "boolean", short: "h" },
  },
});

if (values.help) {
  console.log("usage: npm run edge -- [--port P] [--https-port Q] [--state-dir DIR] [--max-body BYTES] [--edges K]");
  process.exit(0);
}

function tokensFromEnv(): Record<string, string> | undefined {
  if (process.env.CAPIM_EDGE_TOKENS) return JSON.parse(process.env.CAPIM_EDGE_TOKENS) as Record<string, string>;
  if (process.env.CAPIM_EDGE_TOKEN) return { [process.env.CAPIM_EDGE_TOKEN]: "default" };
  return undefined;
}

function portArg(name: string, v: string): number {
  const p = Number(v);
  if (!Number.isInteger(p) || p < 0 || p > 65535) {
    console.error(`invalid --${name} ${v}`);
    process.exit(2);
  }
  return p;
}
const port = portArg("port", values.port!);
const httpsPort = values["https-port"] !== undefined ? portArg("https-port", values["https-port"]) : undefined;
const count = Number(values.edges);
if (!Number.isInteger(count) || count < 1 || count > 64) {
  console.error(`invalid --edges ${values.edges} (want 1 to 64 workerd processes)`);
  process.exit(2);
}
if (count > 1 && httpsPort !== undefined) {
  console.error("--https-port applies to one edge; with --edges, edge i listens on --port + 2i and + 2i + 1");
  process.exit(2);
}
// Every process answers the same tokens: one generated here unless the environment gives them.
const given = tokensFromEnv();
const tokens = given ?? (count > 1 ? { [randomBytes(24).toString("hex")]: "default" } : undefined);
// Miniflare installs SIGINT/SIGTERM handlers that kill workerd and exit(130/143) at once. We take
// them over (only the ones added while starting) so a signal disposes Miniflare and exits 0.
const before = { SIGINT: process.listeners("SIGINT"), SIGTERM: process.listeners("SIGTERM") };
// Loaded only now, after edge-node-flags.js ran: a static import would be evaluated (Miniflare's
// allocations included) before this module's body in the bundle, where ESM imports are hoisted.
const { startEdge } = await import("./edge.js");
const supervise = {
  log: (message: string) => console.error(`edge: ${message}`),
  giveUp: (message: string) => {
    console.error(`edge: ${message}`);
    void shutdown("workerd keeps dying", 1);
  },
};
const stateDirs = Array.from({ length: count }, (_, i) => (i === 0 ? values["state-dir"]! : `${values["state-dir"]}-${i}`));
const edges = await Promise.all(
  stateDirs.map((stateDir, i) =>
    startEdge({
      port: port && port + 2 * i,
      httpsPort: i === 0 ? httpsPort : undefined,
      stateDir,
      tokens,
      maxBody: values["max-body"] ? Number(values["max-body"]) : undefined,
      supervise,
    }),
  ),
);
const edge = edges[0];
if (!given) console.log(`token (tenant "default"): ${edge.token}`);
console.log(`state in ${stateDirs.join(", ")}`);
console.log(`edge https at ${edge.httpsUrl} (CA: ${values["state-dir"]}/edge-tls/ca.crt)`);
if (count > 1) console.log(`edges: ${edges.map((e) => e.url).join(" ")} (a cluster's edge is FNV-1a of namespace/name mod ${count}; https: ${edges.map((e) => e.httpsUrl).join(" ")})`);
console.log(`edge ready at ${edge.url}`);

let stopping = false;
async function shutdown(reason: string, code = 0) {
  if (stopping) return;
  stopping = true;
  console.log(`${reason}: stopping edge`);
  for (const e of edges) e.stopSupervising();
  setTimeout(() => process.exit(1), 10_000).unref(); // never hang on shutdown
  try {
    await Promise.all(edges.map((e) => e.stop()));
  } finally {
    process.exit(code);
  }
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  for (const l of process.listeners(signal)) if (!before[signal].includes(l)) process.removeListener(signal, l);
  process.on(signal, () => void shutdown(signal));
}
