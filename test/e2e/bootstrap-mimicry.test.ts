// Bootstrap mimicry for another provider's machines: a stand-in infrastructure kind (FakeMachine, a CRD
// made here, shaped as a provider's machine: spec.providerID, status.ready) is named in the controller's
// --bootstrap-mimicry file. For each FakeMachine whose CAPI Machine has bootstrap data and which is ready,
// the edge bootstraps it in the fake cluster of its ControlPlaneEndpoint: a Node with the FakeMachine's
// providerID (what CAPI's Machine controller looks for), static pods and an etcd member for a control
// plane. Deleting the FakeMachine removes its Node. Objects are written with kubectl, as CAPI and the
// provider would; the fake cluster is read with kubectl through its VIP.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClusterCA } from "../helpers/cluster-ca.js";
import { startControllerStack, type ControllerStack } from "../helpers/controller-process.js";
import { KUBECTL, kubectl, kubectlJson, until } from "./embedded-process.js";

const NS = "default";
const CLUSTER = "fk";
const FAKE = "fakemachines.test.capim-edge.dev";

const FAKE_MACHINE_CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: ${FAKE}}
spec:
  group: test.capim-edge.dev
  names: {kind: FakeMachine, listKind: FakeMachineList, plural: fakemachines, singular: fakemachine}
  scope: Namespaced
  versions:
    - name: v1alpha1
      served: true
      storage: true
      subresources: {status: {}}
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: {type: object, properties: {providerID: {type: string}}}
            status: {type: object, properties: {ready: {type: boolean}}}
`;

const MIMICRY = `machineKinds:
  - apiVersion: test.capim-edge.dev/v1alpha1
    kind: FakeMachine
    resource: fakemachines
    providerIDPath: spec.providerID
    readyPath: status.ready
`;

describe.skipIf(!KUBECTL)("bootstrap mimicry for another provider's machine kind", () => {
  let stack: ControllerStack;
  let mgmtKubeconfig: string;
  let workload: string;
  const apply = (yaml: string) => stack.apply(yaml);
  const nodes = async () => {
    try {
      return (await kubectlJson(workload, ["get", "nodes"])).items as any[];
    } catch {
      return undefined; // the VIP answers 401 until it has the CA
    }
  };

  /** A CAPI Machine with its bootstrap data, and the provider's machine it owns. */
  async function machinePair(name: string, providerID: string, controlPlane: boolean): Promise<void> {
    await apply(`apiVersion: cluster.x-k8s.io/v1beta2
kind: Machine
metadata:
  name: ${name}
  namespace: ${NS}
  labels: {cluster.x-k8s.io/cluster-name: ${CLUSTER}${controlPlane ? ', cluster.x-k8s.io/control-plane: ""' : ""}}
spec:
  clusterName: ${CLUSTER}
  version: v1.31.0
  bootstrap: {dataSecretName: ${name}-bootstrap}
  infrastructureRef: {apiGroup: test.capim-edge.dev, kind: FakeMachine, name: ${name}}
`);
    const machine = await kubectlJson(mgmtKubeconfig, ["-n", NS, "get", "machines.cluster.x-k8s.io", name]);
    await apply(`apiVersion: test.capim-edge.dev/v1alpha1
kind: FakeMachine
metadata:
  name: ${name}
  namespace: ${NS}
  ownerReferences: [{apiVersion: cluster.x-k8s.io/v1beta2, kind: Machine, name: ${name}, uid: ${machine.metadata.uid}, controller: true}]
spec: {providerID: "${providerID}"}
`);
  }
  const setReady = (name: string) => kubectl(mgmtKubeconfig, ["-n", NS, "patch", FAKE, name, "--subresource=status", "--type=merge", "-p", '{"status":{"ready":true}}']);

  beforeAll(async () => {
    stack = await startControllerStack({
      portRange: "23000-23999",
      // The provider's CRD exists before the controller starts, as it would in a management cluster.
      beforeController: async (s) => {
        await s.apply(FAKE_MACHINE_CRD);
        await kubectl(s.mgmt.kubeconfigPath, ["wait", "--for=condition=Established", `crd/${FAKE}`, "--timeout=60s"]);
        const config = path.join(s.dir, "mimicry.yaml");
        writeFileSync(config, MIMICRY);
        return ["--bootstrap-mimicry", config];
      },
    });
    mgmtKubeconfig = stack.mgmt.kubeconfigPath;
    await apply(`apiVersion: cluster.x-k8s.io/v1beta2
kind: Cluster
metadata: {name: ${CLUSTER}, namespace: ${NS}}
spec: {}
---
apiVersion: vcsim.infrastructure.cluster.x-k8s.io/v1alpha1
kind: ControlPlaneEndpoint
metadata: {name: ${CLUSTER}, namespace: ${NS}}
spec: {}
`);
    const cpe = await until(async () => {
      const o = await kubectlJson(mgmtKubeconfig, ["-n", NS, "get", "controlplaneendpoints.vcsim.infrastructure.cluster.x-k8s.io", CLUSTER]);
      return o.status?.port ? o : undefined;
    }, "the ControlPlaneEndpoint's port");
    workload = await createClusterCA({ cluster: CLUSTER, namespace: NS, dir: stack.dir, port: cpe.status.port, apply });
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it("bootstraps a ready machine with its own providerID; waits for readiness", async () => {
    await machinePair("fk-md-0", "fake://vm-0002", false); // not ready yet
    await machinePair("fk-cp-0", "fake://vm-0001", true);
    await setReady("fk-cp-0");
    const cp = await until(async () => (await nodes())?.find((n) => n.metadata.name === "fk-cp-0"), "the control plane's Node in the fake cluster");
    expect(cp.spec.providerID).toBe("fake://vm-0001");
    expect(cp.metadata.labels).toHaveProperty("node-role.kubernetes.io/control-plane");
    const pods = await until(async () => {
      const list = (await kubectlJson(workload, ["-n", "kube-system", "get", "pods"])).items.map((p: any) => p.metadata.name);
      return list.includes("kube-apiserver-fk-cp-0") && list.includes("etcd-fk-cp-0") ? list : undefined;
    }, "the control plane's static pods");
    expect(pods).toContain("kube-controller-manager-fk-cp-0");
    // The worker was written first but is not ready: the provider has not finished its VM.
    expect((await nodes())!.map((n) => n.metadata.name)).not.toContain("fk-md-0");
    const fake = await kubectlJson(mgmtKubeconfig, ["-n", NS, "get", FAKE, "fk-cp-0"]);
    expect(fake.metadata.finalizers).toContain("bootstrap-mimicry.capim-edge.dev");

    await setReady("fk-md-0");
    const worker = await until(async () => (await nodes())?.find((n) => n.metadata.name === "fk-md-0"), "the worker's Node once ready");
    expect(worker.spec.providerID).toBe("fake://vm-0002");
    expect(worker.metadata.labels).not.toHaveProperty("node-role.kubernetes.io/control-plane");
  });

  it("removes the Node from the fake cluster when the provider's machine is deleted", async () => {
    await kubectl(mgmtKubeconfig, ["-n", NS, "delete", FAKE, "fk-md-0", "--timeout=60s"]);
    await until(async () => ((await nodes())?.some((n) => n.metadata.name === "fk-md-0") === false ? true : undefined), "the worker's Node gone");
    expect((await nodes())!.map((n) => n.metadata.name)).toEqual(["fk-cp-0"]);
  });
});
