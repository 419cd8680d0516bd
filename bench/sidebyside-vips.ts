// The VIP side of the side-by-side benchmark in a process of its own (so its CPU and RSS are its own):
// the controller's VipManager with one VIP per edge cluster, as `npm start` runs them, minus the
// reconcilers. Protocol (JSON lines on stdout): {"event":"started","pid"} at once; after a line "open"
// on stdin it opens the VIPs and prints {"event":"opened","clusters":[{server, ca, cert, key}]}.
// Closing stdin stops it.
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { pino } from "pino";
import { generateCA, issueCert, loadCA } from "../controller/pki/index.js";
import { VipManager } from "../controller/vip/index.js";
import { createLogger } from "../controller/log.js";

const { values } = parseArgs({ options: { "edge-url": { type: "string" }, clusters: { type: "string" }, namespace: { type: "string", default: "bench" } } });
const emit = (o: Record<string, unknown>) => process.stdout.write(JSON.stringify(o) + "\n");
emit({ event: "started", pid: process.pid });

const lines = createInterface({ input: process.stdin });
lines.on("close", () => process.exit(0));
for await (const line of lines) {
  if (line.trim() !== "open") continue;
  // One CA for every cluster, as on the in-memory side: per-cluster keygen is CAPI's cost in both.
  const ca = await generateCA("kubernetes");
  const loaded = await loadCA(ca);
  const admin = await issueCert(loaded, { commonName: "kubernetes-admin", organization: ["system:masters"], usage: "client" });
  const manager = new VipManager({
    edgeUrl: values["edge-url"]!,
    edgeToken: process.env.CAPIM_EDGE_TOKEN!,
    host: "127.0.0.1",
    logger: createLogger({ level: "warn", destination: pino.destination(2) }),
  });
  const clusters = [];
  for (let i = 0; i < Number(values.clusters); i++) {
    const { host, port } = await manager.open({ namespace: values.namespace!, name: `c${i}`, ca });
    clusters.push({ server: `https://${host}:${port}`, ca: ca.certPem, cert: admin.certPem, key: admin.keyPem });
  }
  emit({ event: "opened", clusters });
}
