// vcsim's API served by capim-edge for other providers' clusters: a ControlPlaneEndpoint opens a VIP
// backed by a fresh edge cluster and reports status.host/port; its `<name>-ca` signs the VIP's
// certificate once it exists (kubectl through the VIP with a client cert from that CA); an EnvVar
// gathers a template's variables, `capim-edge env` writes them as an env file that the shell and
// envsubst read; deleting the ControlPlaneEndpoint closes the VIP and drops the edge cluster. All with
// kubectl against the embedded management API and the controller as its own process.
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { capim } from "../helpers/cli.js";
import { createClusterCA } from "../helpers/cluster-ca.js";
import { startControllerStack, type ControllerStack } from "../helpers/controller-process.js";
import { portRefused } from "../helpers/wait.js";
import { KUBECTL, kubectl, kubectlJson, until } from "./embedded-process.js";

const execFileP = promisify(execFile);
const NS = "default";
const PORTS = [22000, 22999];

describe.skipIf(!KUBECTL)("vcsim's ControlPlaneEndpoint and EnvVar", () => {
  let stack: ControllerStack;
  let dir: string;
  let mgmtKubeconfig: string;
  const apply = (yaml: string) => stack.apply(yaml);
  const endpointOf = (name: string) =>
    until(async () => {
      const o = await kubectlJson(mgmtKubeconfig, ["-n", NS, "get", "controlplaneendpoints.vcsim.infrastructure.cluster.x-k8s.io", name]);
      return o.status?.host && o.status?.port ? o : undefined;
    }, `controlplaneendpoint ${name} reports host and port`);

  beforeAll(async () => {
    stack = await startControllerStack({ portRange: PORTS.join("-") });
    dir = stack.dir;
    mgmtKubeconfig = stack.mgmt.kubeconfigPath;
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it("opens a VIP for a ControlPlaneEndpoint, serving with the cluster's CA once its Secret exists", async () => {
    await apply(`apiVersion: vcsim.infrastructure.cluster.x-k8s.io/v1alpha1
kind: ControlPlaneEndpoint
metadata: {name: vc1, namespace: ${NS}}
spec: {}
`);
    const cpe = await endpointOf("vc1");
    expect(cpe.status.host).toBe("127.0.0.1");
    expect(cpe.status.port).toBeGreaterThanOrEqual(PORTS[0]);
    expect(cpe.status.port).toBeLessThanOrEqual(PORTS[1]);
    expect(cpe.status.conditions.find((c: any) => c.type === "Ready")).toMatchObject({ status: "True", reason: "Ready" });
    expect(cpe.metadata.finalizers).toContain("control-plane-endpoint.vcsim.infrastructure.cluster.x-k8s.io");
    const table = await kubectl(mgmtKubeconfig, ["-n", NS, "get", "controlplaneendpoints.vcsim.infrastructure.cluster.x-k8s.io", "vc1"]);
    expect(table).toMatch(new RegExp(`vc1\\s+127\\.0\\.0\\.1\\s+${cpe.status.port}\\s`));

    // What KCP would create: the cluster CA, labelled with the cluster's name.
    const kubeconfig = await createClusterCA({ cluster: "vc1", namespace: NS, dir, port: cpe.status.port, apply });
    const namespaces = await until(async () => {
      try {
        return (await kubectlJson(kubeconfig, ["get", "namespaces"])).items.map((n: any) => n.metadata.name);
      } catch {
        return undefined; // the VIP answers 401 until it has picked up the CA
      }
    }, "kubectl through the ControlPlaneEndpoint's VIP");
    expect(namespaces).toContain("kube-system");
  });

  it("gathers a template's variables in an EnvVar; capim-edge env writes them for the shell and envsubst", async () => {
    const { status } = await endpointOf("vc1");
    await apply(`apiVersion: vcsim.infrastructure.cluster.x-k8s.io/v1alpha1
kind: EnvVar
metadata: {name: vc1, namespace: ${NS}}
spec:
  cluster: {name: vc1, kubernetesVersion: v1.32.0, controlPlaneMachines: 3, workerMachines: 2}
  controlPlaneEndpoint: {name: vc1}
  variables: {VSPHERE_DATACENTER: "DC0", TRICKY: "it's $HOME \`x\`"}
`);
    const variables = await until(async () => {
      const o = await kubectlJson(mgmtKubeconfig, ["-n", NS, "get", "envvars.vcsim.infrastructure.cluster.x-k8s.io", "vc1"]);
      return o.status?.variables;
    }, "envvar vc1 status.variables");
    expect(variables).toEqual({
      CLUSTER_NAME: "vc1",
      NAMESPACE: NS,
      KUBERNETES_VERSION: "v1.32.0",
      CONTROL_PLANE_MACHINE_COUNT: "3",
      WORKER_MACHINE_COUNT: "2",
      CONTROL_PLANE_ENDPOINT_IP: status.host,
      CONTROL_PLANE_ENDPOINT_PORT: String(status.port),
      VSPHERE_DATACENTER: "DC0",
      TRICKY: "it's $HOME `x`",
    });

    const out = await capim(["env", "vc1", "--kubeconfig", mgmtKubeconfig], process.env);
    expect(out.stderr).toBe("");
    expect(out.code).toBe(0);
    const envFile = path.join(dir, "vc1.env");
    writeFileSync(envFile, out.stdout);
    const template = path.join(dir, "template.yaml");
    writeFileSync(template, "name: ${CLUSTER_NAME}\nendpoint: ${CONTROL_PLANE_ENDPOINT_IP}:${CONTROL_PLANE_ENDPOINT_PORT}\nreplicas: ${CONTROL_PLANE_MACHINE_COUNT}\ntricky: ${TRICKY}\n");
    const { stdout } = await execFileP("bash", ["-c", `. "$1" && envsubst < "$2"`, "bash", envFile, template], { env: { PATH: process.env.PATH ?? "" } });
    expect(stdout).toBe(`name: vc1\nendpoint: ${status.host}:${status.port}\nreplicas: 3\ntricky: it's $HOME \`x\`\n`);

    const missing = await capim(["env", "nope", "--kubeconfig", mgmtKubeconfig], process.env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^capim-edge: envvar default\/nope not found/);
  });

  it("closes the VIP and deletes the edge cluster when the ControlPlaneEndpoint is deleted", async () => {
    const { status } = await endpointOf("vc1");
    await kubectl(mgmtKubeconfig, ["-n", NS, "delete", "controlplaneendpoints.vcsim.infrastructure.cluster.x-k8s.io", "vc1", "--timeout=60s"]);
    await until(async () => ((await portRefused(status.port)) ? true : undefined), "the VIP port refuses connections");
    const res = await fetch(`${stack.edge.url}/admin/clusters/${NS}/vc1`, { headers: { authorization: `Bearer ${stack.edge.token}` } });
    await res.body?.cancel();
    expect(res.status).toBe(404);
  });
});
