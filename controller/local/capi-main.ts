// `npm run capi -- --clusters N --control-planes C --workers W`: the real Cluster API (v1.14.2's core,
// KubeadmControlPlane and kubeadm bootstrap managers on a kube-apiserver v1.35.4, all built from Go modules,
// no kind, no docker) with capim-edge as its infrastructure provider, and N clusters from the project's
// template. Runs until Ctrl-C; a restart with the same --state-dir keeps the management data and the
// fake clusters.
import { SingleBar, Presets } from "cli-progress";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { clusterManifest } from "./capi/capim.js";
import { buildRealCapi, kubectl, startRealCapi, type RealCapiPlane } from "./capi/plane.js";
import { parsePortRange } from "../vip/ports.js";

const USAGE = `usage: npm run capi -- [options]
  --clusters N           clusters capi-1..N in namespace default (default 1)
  --control-planes C     KubeadmControlPlane replicas (default 1)
  --workers W            MachineDeployment replicas (default 1)
  --version V            Kubernetes version (default v1.31.0)
  --startup-duration D   every provisioning step (default: the template's 10s/2s, CAPI's scale-test values)
  --state-dir DIR        management plane data, logs and the edge's state (default .state/capi)
  --vip-port-range A-B   the clusters' VIP ports (default 20000-30000)`;

function fail(message: string): never {
  console.error(`capim-edge: ${message}\n${USAGE}`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      clusters: { type: "string", default: "1" },
      "control-planes": { type: "string", default: "1" },
      workers: { type: "string", default: "1" },
      version: { type: "string", default: "v1.31.0" },
      "startup-duration": { type: "string" },
      "state-dir": { type: "string", default: ".state/capi" },
      "vip-port-range": { type: "string", default: "20000-30000" },
      help: { type: "boolean", short: "h" },
    },
  }));
} catch (e) {
  fail((e as Error).message);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const count = (name: string, v: string, min: number) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) fail(`invalid --${name} ${v} (want an integer >= ${min})`);
  return n;
};
const clusters = count("clusters", values.clusters!, 1);
const controlPlanes = count("control-planes", values["control-planes"]!, 1);
const workers = count("workers", values.workers!, 0);
if (!/^v\d+\.\d+\.\d+$/.test(values.version!)) fail(`invalid --version ${values.version} (want vMAJOR.MINOR.PATCH)`);
if (values["startup-duration"] !== undefined && !/^(\d+(\.\d+)?(ms|s|m))+$/.test(values["startup-duration"])) fail(`invalid --startup-duration ${values["startup-duration"]}`);
const portRange = parsePortRange(values["vip-port-range"]!) ?? fail(`invalid --vip-port-range ${values["vip-port-range"]}`);
const dir = path.resolve(values["state-dir"]!);
mkdirSync(dir, { recursive: true });

let plane: RealCapiPlane | undefined;
let bar: SingleBar | undefined;
let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  bar?.stop();
  console.log(`${signal}: stopping (the fake clusters and the management data stay in ${dir})`);
  setTimeout(() => process.exit(1), 30_000).unref();
  await plane?.stop().catch(() => {});
  process.exit(0);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));

let bin: string;
try {
  console.log("building (or reusing) etcd, Kubernetes v1.35.4 and Cluster API v1.14.2 from Go modules; the first build takes ~15-20 min");
  bin = await buildRealCapi((line) => console.log(line));
} catch (e) {
  console.error(`capim-edge: ${(e as Error).message}`);
  process.exit(1);
}
plane = await startRealCapi({ bin, dir, portRange, log: (l) => console.log(l) });
console.log(`management plane ready: kubectl --kubeconfig ${plane.kubeconfig} get clusters,machines -A`);
console.log(`logs of every process in ${dir}`);

const names = Array.from({ length: clusters }, (_, i) => `capi-${i + 1}`);
for (const name of names) {
  const manifest = clusterManifest({ name, namespace: "default", kubernetesVersion: values.version!, controlPlanes, workers, startupDuration: values["startup-duration"] });
  await kubectl(plane.kubeconfig, ["apply", "-f", "-"], manifest);
}

const total = clusters * (controlPlanes + workers);
const tty = process.stderr.isTTY;
if (tty) {
  bar = new SingleBar({ format: "machines [{bar}] {value}/{total} | clusters Available {ready}/{clusters}", hideCursor: true }, Presets.shades_classic);
  bar.start(total, 0, { ready: 0, clusters });
}
let last = "";
for (;;) {
  if (stopping) break;
  const list = JSON.parse(await kubectl(plane.kubeconfig, ["-n", "default", "get", "clusters.cluster.x-k8s.io,machines.cluster.x-k8s.io", "-o", "json"]).catch(() => '{"items":[]}'));
  const running = list.items.filter((o: any) => o.kind === "Machine" && o.status?.phase === "Running" && o.status?.nodeRef).length;
  const ready = list.items.filter((o: any) => o.kind === "Cluster" && (o.status?.conditions ?? []).some((c: any) => c.type === "Available" && c.status === "True")).length;
  if (bar) bar.update(Math.min(running, total), { ready, clusters });
  else if (`${running}/${ready}` !== last) console.log(`progress: ${running}/${total} machines running, ${ready}/${clusters} clusters Available`);
  last = `${running}/${ready}`;
  if (ready === clusters && running >= total) break;
  await new Promise((r) => setTimeout(r, 2000));
}
bar?.stop();
if (!stopping) {
  console.log(`all ${clusters} clusters Available; workload kubeconfigs: kubectl --kubeconfig ${plane.kubeconfig} get secret capi-1-kubeconfig -o jsonpath='{.data.value}' | base64 -d`);
  console.log("Ctrl-C stops everything; the same command with the same --state-dir picks it up again");
}
