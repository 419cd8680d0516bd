// Pure logic of the vcsim kinds and bootstrap mimicry: the --bootstrap-mimicry file, an EnvVar's
// variables, and the env file `capim-edge env` writes (read back by a real bash).
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { envFile } from "../../cli/env.js";
import { endpointRef, envVariables } from "../../controller/reconcilers/envvar.js";
import { parseMimicryConfig } from "../../controller/reconcilers/mimicry.js";

describe("parseMimicryConfig", () => {
  it("reads kinds with their paths and timings, with defaults", () => {
    const kinds = parseMimicryConfig(`machineKinds:
  - {apiVersion: infrastructure.cluster.x-k8s.io/v1beta1, kind: VSphereMachine, resource: vspheremachines, readyPath: status.ready,
     provisioning: {node: {startupDuration: 2s, startupJitter: "0.2"}, etcd: {startupDuration: 1s}}}
  - {apiVersion: infrastructure.cluster.x-k8s.io/v1beta1, kind: Metal3Machine, resource: metal3machines, providerIDPath: spec.providerID}
`);
    expect(kinds[0]).toEqual({
      gvr: { group: "infrastructure.cluster.x-k8s.io", version: "v1beta1", plural: "vspheremachines", kind: "VSphereMachine" },
      providerIDPath: ["spec", "providerID"],
      readyPath: ["status", "ready"],
      provisioning: { node: { startupDuration: "2s", startupJitter: "0.2" }, etcd: { startupDuration: "1s" } },
    });
    expect(kinds[1].readyPath).toBeUndefined();
    expect(kinds[1].provisioning).toEqual({});
  });

  it.each([
    ["", /machineKinds: a non-empty list/],
    ["machineKinds: []", /machineKinds: a non-empty list/],
    ["machineKinds: [{kind: X, resource: xs}]", /machineKinds\[0\]\.apiVersion/],
    ["machineKinds: [{apiVersion: a.b/v1, kind: x, resource: xs}]", /machineKinds\[0\]\.kind/],
    ["machineKinds: [{apiVersion: a.b/v1, kind: X}]", /machineKinds\[0\]\.resource/],
    ["machineKinds: [{apiVersion: a.b/v1, kind: X, resource: xs, readyPath: 'status..ready'}]", /readyPath: a dotted field path/],
    ["machineKinds: [{apiVersion: a.b/v1, kind: X, resource: xs, provisioning: {vm: {startupDuration: 1s}}}]", /provisioning\.vm: one of node, apiServer, etcd/],
    ["machineKinds: [{apiVersion: a.b/v1, kind: X, resource: xs, provisioning: {node: {startupDuration: soon}}}]", /provisioning\.node\.startupDuration/],
    ["machineKinds: [: :", /not YAML/],
  ])("refuses %j", (text, message) => {
    expect(() => parseMimicryConfig(text)).toThrow(message);
  });
});

describe("EnvVar variables", () => {
  const ev = (spec: object) => ({ metadata: { name: "e", namespace: "ns1" }, spec }) as any;

  it("waits for the endpoint, then fills the template's variables with defaults", () => {
    expect(envVariables(ev({ cluster: { name: "c1" } }), undefined)).toBeUndefined();
    expect(envVariables(ev({ cluster: { name: "c1" } }), { host: "10.0.0.1" })).toBeUndefined();
    expect(envVariables(ev({ cluster: { name: "c1" }, variables: { CLUSTER_NAME: "not this", EXTRA: "1" } }), { host: "10.0.0.1", port: 20001 })).toEqual({
      EXTRA: "1",
      CLUSTER_NAME: "c1",
      NAMESPACE: "ns1",
      KUBERNETES_VERSION: "v1.31.0",
      CONTROL_PLANE_MACHINE_COUNT: "1",
      WORKER_MACHINE_COUNT: "1",
      CONTROL_PLANE_ENDPOINT_IP: "10.0.0.1",
      CONTROL_PLANE_ENDPOINT_PORT: "20001",
    });
  });

  it("reads the ControlPlaneEndpoint it names, else the one named like the cluster in its own namespace", () => {
    expect(endpointRef(ev({ cluster: { name: "c1" } }))).toEqual({ namespace: "ns1", name: "c1" });
    expect(endpointRef(ev({ cluster: { name: "c1" }, controlPlaneEndpoint: { namespace: "other", name: "vip" } }))).toEqual({ namespace: "other", name: "vip" });
  });

  it("writes an env file bash reads back value for value", () => {
    const vars = { A: "plain", B: "it's \"quoted\" $HOME `cmd` \\ end", C: "", "not-a-name": "x" };
    const text = envFile(vars);
    expect(text).not.toContain("not-a-name");
    const out = execFileSync("bash", ["-c", `${text}\nprintf '%s\\n' "$A" "$B" "$C"`], { env: { PATH: process.env.PATH ?? "" } }).toString();
    expect(out).toBe(`plain\n${vars.B}\n\n`);
  });
});
