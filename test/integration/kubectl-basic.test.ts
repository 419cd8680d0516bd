// kubectl 1.29 and 1.32 (the real binaries) against a cluster of a real local edge, through a
// kubeconfig whose server is <edge>/clusters/<ns>/<name>.
import { spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clusterServer, createCluster, kubectlPath, spawnEdge, tempDir, writeKubeconfig, type SpawnedEdge } from "../helpers/edge.js";

const VERSIONS = ["1.29", "1.32"];
let edge: SpawnedEdge;
const dir = tempDir("capim-kubectl-");

beforeAll(async () => {
  edge = await spawnEdge();
});
afterAll(async () => {
  await edge?.stop();
});

const CONFIGMAP = (data: string) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: app-cfg
  labels:
    app: web
data:
${data}
`;

const DEPLOYMENT = (image: string, replicas = 2) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: ${replicas}
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: nginx
        image: ${image}
        ports:
        - containerPort: 80
      - name: sidecar
        image: busybox:1.36
        command: ["sleep", "infinity"]
`;

for (const version of VERSIONS) {
  const bin = kubectlPath(version);
  if (!bin) console.warn(`kubectl.${version} not found beside the kubectl on PATH; skipping its tests`);

  describe.skipIf(!bin)(`kubectl ${version}`, () => {
    const clusterName = `k${version.replace(".", "")}`;
    let kubeconfig = "";
    let caFile = "";

    function kubectl(args: string[], input?: string) {
      const r = spawnSync(bin!, ["--kubeconfig", kubeconfig, ...args], { input, encoding: "utf8", timeout: 60_000 });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr, all: `${r.stdout}\n${r.stderr}` };
    }
    function ok(args: string[], input?: string) {
      const r = kubectl(args, input);
      expect(r.code, `kubectl ${args.join(" ")}\n${r.all}`).toBe(0);
      return r.stdout;
    }
    function getJson(args: string[]) {
      return JSON.parse(ok(["get", ...args, "-o", "json"]));
    }
    function file(name: string, content: string) {
      const p = path.join(dir, `${clusterName}-${name}`);
      writeFileSync(p, content);
      return p;
    }

    beforeAll(async () => {
      await createCluster(edge, "kubectl", clusterName, { kubernetesVersion: `v${version}.3` });
      // https: kubectl sends bearer tokens only over TLS; the edge's port speaks both.
      kubeconfig = writeKubeconfig({ server: clusterServer(edge.httpsUrl, "kubectl", clusterName), token: edge.token, caPem: edge.caPem, dir, name: clusterName });
      caFile = file("ca.crt", edge.caPem);
    });

    it("version and api-resources", () => {
      const v = JSON.parse(ok(["version", "-o", "json"]));
      expect(v.serverVersion.gitVersion).toBe(`v${version}.3`);
      const res = ok(["api-resources"]);
      for (const r of ["configmaps", "namespaces", "pods", "deployments", "customresourcedefinitions"]) expect(res).toContain(r);
      // Flags pass through the path prefix too.
      const r = spawnSync(
        bin!,
        ["--server", clusterServer(edge.httpsUrl, "kubectl", clusterName), "--token", edge.token, "--certificate-authority", caFile, "get", "namespaces", "-o", "name"],
        { encoding: "utf8", timeout: 60_000 },
      );
      expect(r.status, r.stderr).toBe(0);
      const token = r.stdout;
      expect(token.split("\n").filter(Boolean).sort()).toEqual(["namespace/default", "namespace/kube-node-lease", "namespace/kube-public", "namespace/kube-system"]);
    });

    it("create, get, label, annotate, delete a ConfigMap", () => {
      expect(ok(["create", "configmap", "cm1", "--from-literal=a=1"])).toContain("configmap/cm1 created");
      expect(ok(["get", "configmap", "cm1", "-o", "jsonpath={.data.a}"])).toBe("1");
      const table = ok(["get", "configmaps"]);
      expect(table).toMatch(/^NAME\s+DATA\s+AGE/);
      expect(table).toMatch(/\ncm1\s+1\s+/);
      expect(ok(["label", "configmap", "cm1", "env=test"])).toContain("configmap/cm1 labeled");
      expect(ok(["annotate", "configmap", "cm1", "note=hi"])).toContain("configmap/cm1 annotated");
      const cm = getJson(["configmap", "cm1"]);
      expect(cm.metadata.labels).toEqual({ env: "test" });
      expect(cm.metadata.annotations).toMatchObject({ note: "hi" });
      expect(ok(["get", "configmaps", "-l", "env=test", "-o", "name"]).trim()).toBe("configmap/cm1");
      expect(ok(["get", "configmaps", "-l", "env!=test", "-o", "name"]).trim()).not.toContain("cm1");
      expect(ok(["delete", "configmap", "cm1"])).toContain('configmap "cm1" deleted');
      const gone = kubectl(["get", "configmap", "cm1"]);
      expect(gone.code).toBe(1);
      expect(gone.stderr).toContain('Error from server (NotFound): configmaps "cm1" not found');
    });

    it("get -w streams changes", async () => {
      ok(["create", "configmap", "watched-0"]);
      const child = spawn(bin!, ["--kubeconfig", kubeconfig, "get", "configmaps", "-w", "-o", "name"], { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      child.stdout.on("data", (b) => (out += b));
      child.stderr.on("data", (b) => (out += b));
      try {
        const waitFor = async (s: string) => {
          const end = Date.now() + 30_000;
          while (!out.includes(s)) {
            if (Date.now() > end || child.exitCode !== null) throw new Error(`kubectl get -w did not print ${s}; output:\n${out}`);
            await new Promise((r) => setTimeout(r, 50));
          }
        };
        await waitFor("configmap/watched-0");
        ok(["create", "configmap", "watched-1"]);
        await waitFor("configmap/watched-1");
      } finally {
        child.kill("SIGKILL");
      }
    });

    it("apply -f (client-side) creates and then configures a ConfigMap and a Deployment", () => {
      const cmFile = file("cm.yaml", CONFIGMAP("  a: \"1\"\n  b: \"2\""));
      const depFile = file("dep.yaml", DEPLOYMENT("nginx:1.25"));
      expect(ok(["apply", "-f", cmFile])).toContain("configmap/app-cfg created");
      expect(ok(["apply", "-f", depFile])).toContain("deployment.apps/web created");
      const cm = getJson(["configmap", "app-cfg"]);
      expect(cm.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]).toContain('"app-cfg"');
      // Dropping key b from the manifest removes it (three-way merge with last-applied).
      writeFileSync(cmFile, CONFIGMAP('  a: "10"'));
      expect(ok(["apply", "-f", cmFile])).toContain("configmap/app-cfg configured");
      expect(getJson(["configmap", "app-cfg"]).data).toEqual({ a: "10" });
      writeFileSync(depFile, DEPLOYMENT("nginx:1.26", 3));
      expect(ok(["apply", "-f", depFile])).toContain("deployment.apps/web configured");
      const dep = getJson(["deployment", "web"]);
      expect(dep.spec.replicas).toBe(3);
      expect(dep.spec.template.spec.containers.map((c: { name: string; image: string }) => `${c.name}=${c.image}`)).toEqual(["nginx=nginx:1.26", "sidecar=busybox:1.36"]);
      expect(dep.metadata.generation).toBe(2);
      expect(ok(["apply", "-f", depFile])).toContain("deployment.apps/web unchanged");
    });

    it("apply --server-side of a ConfigMap and a Deployment", () => {
      const cmFile = file("ssa-cm.yaml", CONFIGMAP('  s: "1"').replace("app-cfg", "ssa-cfg"));
      const depFile = file("ssa-dep.yaml", DEPLOYMENT("nginx:1.25").replace("name: web\n  labels", "name: ssa-web\n  labels"));
      expect(ok(["apply", "--server-side", "-f", cmFile])).toContain("configmap/ssa-cfg serverside-applied");
      expect(ok(["apply", "--server-side", "-f", depFile])).toContain("deployment.apps/ssa-web serverside-applied");
      expect(getJson(["configmap", "ssa-cfg"]).data).toEqual({ s: "1" });
      const dep = getJson(["deployment", "ssa-web"]);
      expect(dep.spec.template.spec.containers).toHaveLength(2);
      writeFileSync(cmFile, CONFIGMAP('  t: "2"').replace("app-cfg", "ssa-cfg"));
      expect(ok(["apply", "--server-side", "-f", cmFile])).toContain("configmap/ssa-cfg serverside-applied");
      expect(getJson(["configmap", "ssa-cfg"]).data).toEqual({ t: "2" }); // s was owned by this manager: removed
      const cm = getJson(["configmap", "ssa-cfg", "--show-managed-fields"]);
      expect((cm.metadata.managedFields ?? []).map((m: { manager: string; operation: string }) => `${m.manager}/${m.operation}`)).toContain("kubectl/Apply");
    });

    it("create -f, and patch --type merge, strategic and json", () => {
      const depFile = file("create-dep.yaml", DEPLOYMENT("nginx:1.25").replace("name: web\n  labels", "name: patched\n  labels"));
      expect(ok(["create", "-f", depFile])).toContain("deployment.apps/patched created");
      const dup = kubectl(["create", "-f", depFile]);
      expect(dup.code).toBe(1);
      expect(dup.stderr).toContain("AlreadyExists");

      expect(ok(["patch", "deployment", "patched", "--type", "merge", "-p", '{"spec":{"replicas":5}}'])).toContain("deployment.apps/patched patched");
      expect(getJson(["deployment", "patched"]).spec.replicas).toBe(5);

      // Strategic merge: containers merge by name, so the sidecar stays.
      ok(["patch", "deployment", "patched", "--type", "strategic", "-p", '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.27"}]}}}}']);
      let dep = getJson(["deployment", "patched"]);
      expect(dep.spec.template.spec.containers.map((c: { name: string; image: string }) => `${c.name}=${c.image}`)).toEqual(["nginx=nginx:1.27", "sidecar=busybox:1.36"]);
      // The default --type is strategic too.
      ok(["patch", "deployment", "patched", "-p", '{"metadata":{"labels":{"tier":"front"}}}']);

      ok(["patch", "deployment", "patched", "--type", "json", "-p", '[{"op":"replace","path":"/spec/replicas","value":1},{"op":"remove","path":"/spec/template/spec/containers/1"}]']);
      dep = getJson(["deployment", "patched"]);
      expect(dep.spec.replicas).toBe(1);
      expect(dep.metadata.labels).toEqual({ app: "web", tier: "front" });
      expect(dep.spec.template.spec.containers.map((c: { name: string }) => c.name)).toEqual(["nginx"]);

      const bad = kubectl(["patch", "deployment", "patched", "--type", "json", "-p", '[{"op":"test","path":"/spec/replicas","value":7}]']);
      expect(bad.code).not.toBe(0);
      expect(getJson(["deployment", "patched"]).spec.replicas).toBe(1);
      expect(ok(["delete", "-f", depFile])).toContain('deployment.apps "patched" deleted');
    });
  });
}
