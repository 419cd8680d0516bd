// capim-edge on the local real-CAPI plane, installed as a user would: its CRDs and RBAC from config/,
// a local edge, and the controller as its own process running with its ServiceAccount's token (so the
// plane's RBAC is exercised as in a real management cluster).
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { Document } from "yaml";
import { generateCA, issueCert } from "../../pki/index.js";
import { CONTROLLER_NODE_ARGS, ensureControllerBundle } from "../controller-bundle.js";
import { loadCrds } from "../management.js";
import { ROOT } from "../project-root.js";
import { kubectlApply, redirectClientConfig, redirectWebhooks, type Doc } from "./capi-providers.js";
import { freePort, startChild, waitFor, type Child } from "./processes.js";

const execFileP = promisify(execFile);
const SA = { namespace: "capim-edge-system", name: "capim-edge-manager" };

export interface RunningCapim {
  edgeUrl: string;
  edgeToken: string;
  children: Child[];
}

function tokenKubeconfig(server: string, caPem: string, token: string): string {
  return new Document({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "management", cluster: { server, "certificate-authority-data": Buffer.from(caPem).toString("base64") } }],
    users: [{ name: SA.name, user: { token } }],
    contexts: [{ name: "capim-edge", context: { cluster: "management", user: SA.name } }],
    "current-context": "capim-edge",
  }).toString();
}

export async function startCapim(o: {
  dir: string;
  adminKubeconfig: string;
  server: string;
  caPem: string;
  portRange: [number, number];
  edgeStateDir?: string;
  /** `clusterctl init` already installed capim-edge's CRDs, namespace and RBAC (clusterctl-install.ts). */
  installed?: boolean;
  /** The edge's token (default: a fresh one), e.g. the one clusterctl put in the capim-edge-token Secret. */
  edgeToken?: string;
}): Promise<RunningCapim> {
  mkdirSync(o.dir, { recursive: true });
  const kc = ["--kubeconfig", o.adminKubeconfig];
  const webhook = await webhookServing(o.dir);
  if (!o.installed) {
    await kubectlApply(o.adminKubeconfig, crdsConvertingAt(o.dir, webhook.port, webhook.caBundle));
    await execFileP("kubectl", [...kc, "wait", "--for=condition=Established", "crd", "--all", "--timeout=120s"]);
    await execFileP("kubectl", [...kc, "create", "namespace", SA.namespace]).catch((e) => {
      if (!String(e.stderr).includes("AlreadyExists")) throw e;
    });
    await execFileP("kubectl", [...kc, "apply", "--server-side", "-k", path.join(ROOT, "config/rbac")]);
  }
  // clusterctl installed the CRDs with the in-cluster Service as conversion webhook: point them here.
  if (o.installed) await redirectWebhooks(o.adminKubeconfig, new Map([["infrastructure-capim-edge", webhook.port]]), webhook.caBundle, o.dir);
  const { stdout: token } = await execFileP("kubectl", [...kc, "-n", SA.namespace, "create", "token", SA.name, "--duration=48h"]);
  const saKubeconfig = path.join(o.dir, "capim-edge-controller.kubeconfig");
  writeFileSync(saKubeconfig, tokenKubeconfig(o.server, o.caPem, token.trim()), { mode: 0o600 });

  const children: Child[] = [];
  try {
    const edgeToken = o.edgeToken ?? randomBytes(18).toString("hex");
    const edge = startChild("capim-edge-edge", process.execPath, [
      "--import", "tsx", path.join(ROOT, "controller/local/edge-main.ts"),
      "--port", "0",
      "--state-dir", o.edgeStateDir ?? path.join(o.dir, "edge-state"),
    ], { dir: o.dir, cwd: ROOT, env: { CAPIM_EDGE_TOKENS: JSON.stringify({ [edgeToken]: "default" }), CAPIM_EDGE_TOKEN: "" } });
    children.push(edge);
    const edgeUrl = await waitFor("the local edge", async () => /^edge ready at (http:\/\/\S+)$/m.exec(edge.output())?.[1], { child: edge, timeoutMs: 120_000 });

    await ensureControllerBundle();
    const controller = startChild("capim-edge-controller", process.execPath, [
      ...CONTROLLER_NODE_ARGS,
      "--kubeconfig", saKubeconfig,
      "--edge-url", edgeUrl,
      "--vip-port-range", o.portRange.join("-"),
      "--metrics-port", "0",
      "--webhook-port", String(webhook.port),
      "--webhook-bind-address", "127.0.0.1",
      "--webhook-cert-dir", webhook.certDir,
    ], { dir: o.dir, cwd: ROOT, env: { CAPIM_EDGE_TOKEN: edgeToken, LOG_LEVEL: process.env.LOG_LEVEL ?? "info" } });
    children.push(controller);
    await waitFor("the capim-edge controller", async () => /controller running/.test(controller.output()), { child: controller, timeoutMs: 120_000 });
    return { edgeUrl, edgeToken, children };
  } catch (e) {
    for (const c of children.reverse()) await c.stop();
    throw e;
  }
}

/**
 * The controller's conversion webhook as the plane's kube-apiserver reaches it: a port on 127.0.0.1 and
 * a serving certificate from a CA made here (what cert-manager and the webhook Service do in a cluster).
 */
async function webhookServing(dir: string): Promise<{ port: number; certDir: string; caBundle: string }> {
  const certDir = path.join(dir, "webhook-certs");
  mkdirSync(certDir, { recursive: true });
  const ca = await generateCA("capim-edge-webhook", { rsa: false });
  const serving = await issueCert(ca, { commonName: "127.0.0.1", ipAddresses: ["127.0.0.1"], usage: "server" });
  writeFileSync(path.join(certDir, "tls.crt"), serving.certPem);
  writeFileSync(path.join(certDir, "tls.key"), serving.keyPem, { mode: 0o600 });
  return { port: await freePort(), certDir, caBundle: Buffer.from(ca.certPem).toString("base64") };
}

/** config/crd/bases with every conversion webhook pointed at the controller on 127.0.0.1:`port`, as one file. */
function crdsConvertingAt(dir: string, port: number, caBundle: string): string {
  const docs = loadCrds([path.join(ROOT, "config/crd/bases")]) as Doc[];
  for (const crd of docs) {
    const conversion = crd.spec?.conversion?.webhook;
    if (conversion?.clientConfig) conversion.clientConfig = redirectClientConfig(conversion.clientConfig, port, caBundle);
  }
  const file = path.join(dir, "capim-edge-crds.yaml");
  writeFileSync(file, docs.map((d) => new Document(d).toString()).join("---\n"));
  return file;
}

/** clusterctl's variable syntax (`${VAR}`, `${VAR:=default}`) over a template; unknown variables fail. */
export function renderTemplate(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\{([A-Z0-9_]+)(?::=([^}]*))?\}/g, (_m, name: string, dflt: string | undefined) => {
    const v = vars[name] ?? dflt;
    if (v === undefined) throw new Error(`template variable ${name} is not set`);
    return v;
  });
}

export interface ClusterShape {
  name: string;
  namespace: string;
  kubernetesVersion: string;
  controlPlanes: number;
  workers: number;
  /** Every provisioning step's startupDuration (the template's 10s/2s are CAPI's scale-test values). */
  startupDuration?: string;
}

/** The project's own template (config/templates/cluster-template-in-memory.yaml) for one cluster. */
export function clusterManifest(c: ClusterShape): string {
  let text = readFileSync(path.join(ROOT, "config/templates/cluster-template-in-memory.yaml"), "utf8");
  if (c.startupDuration) text = text.replace(/startupDuration: "[^"]*"/g, `startupDuration: "${c.startupDuration}"`);
  return renderTemplate(text, {
    CLUSTER_NAME: c.name,
    NAMESPACE: c.namespace,
    KUBERNETES_VERSION: c.kubernetesVersion,
    CONTROL_PLANE_MACHINE_COUNT: String(c.controlPlanes),
    WORKER_MACHINE_COUNT: String(c.workers),
  });
}
