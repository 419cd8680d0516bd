// The apiserver's protobuf body decoder against a real encoder: a small Go program
// (test/integration/protobuf-encode) builds typed k8s.io/api v0.36.3 objects, encodes them with
// apimachinery's protobuf serializer exactly as client-go does, and prints the JSON encoding/json
// gives for the same object; our decoder must produce that JSON. Then real kubectl 1.32/1.33 (which
// send protobuf for typed creates) create Deployments, RBAC objects and Pods against the ApiServer.
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeProtobufObject } from "../../durable-objects/apiserver/protobuf.js";
import { kubectlPath } from "../helpers/edge.js";
import { newServer, serveApiServer } from "../helpers/node-host.js";

const ENCODER_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "protobuf-encode");

function hasGo(): boolean {
  try {
    execFileSync("go", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const GO = hasGo();
if (!GO) console.warn("`go` not found on PATH; skipping the protobuf round-trip tests against the Go encoder");

interface Encoded {
  name: string;
  protobuf: string;
  json: unknown;
  originalJSON: unknown;
}

/** Runs the Go encoder offline (its modules come from the local module cache). */
function encode(args: string[]): Promise<Encoded[]> {
  return new Promise((resolve, reject) => {
    execFile(
      "go",
      ["run", ".", ...args],
      { cwd: ENCODER_DIR, env: { ...process.env, GOFLAGS: "-mod=mod" }, maxBuffer: 64 << 20, timeout: 280_000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`go run failed: ${stderr}`));
        else resolve(stdout.trim().split("\n").map((l) => JSON.parse(l) as Encoded));
      },
    );
  });
}

const decodeB64 = (b64: string) => decodeProtobufObject(new Uint8Array(Buffer.from(b64, "base64")));

describe.skipIf(!GO)("protobuf bodies from apimachinery's serializer", () => {
  it("hand-built objects (Pod, workloads, RBAC, Node, Lease, Service, ...) decode to encoding/json's JSON", async () => {
    const objs = await encode([]);
    expect(objs.map((o) => o.name)).toEqual(expect.arrayContaining(["pod", "deployment", "daemonset", "clusterrole", "clusterrolebinding", "node", "lease", "service"]));
    for (const o of objs) {
      // The fixtures survive the protobuf round trip unchanged, so they test what they appear to test.
      expect(o.json, o.name).toEqual(o.originalJSON);
      expect(decodeB64(o.protobuf), o.name).toEqual(o.json);
    }
    const pod = decodeB64(objs.find((o) => o.name === "pod")!.protobuf) as any;
    expect(pod.spec.containers[0].resources.limits).toEqual({ cpu: "500m", memory: "128Mi" });
    expect(pod.spec.volumes.find((v: any) => v.name === "tmp")).toEqual({ name: "tmp", emptyDir: { medium: "Memory", sizeLimit: "64Mi" } });
    const lease = decodeB64(objs.find((o) => o.name === "lease")!.protobuf) as any;
    expect(lease.spec.renewTime).toBe("2024-05-06T07:08:09.123456Z");

    // The same bytes POSTed to the ApiServer are stored (the decoded forms pass its validation).
    const { api } = newServer();
    const paths: Record<string, string> = {
      pod: "/api/v1/namespaces/default/pods",
      deployment: "/apis/apps/v1/namespaces/default/deployments",
      daemonset: "/apis/apps/v1/namespaces/default/daemonsets",
      statefulset: "/apis/apps/v1/namespaces/default/statefulsets",
      clusterrole: "/apis/rbac.authorization.k8s.io/v1/clusterroles",
      clusterrolebinding: "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
      role: "/apis/rbac.authorization.k8s.io/v1/namespaces/kube-system/roles",
      rolebinding: "/apis/rbac.authorization.k8s.io/v1/namespaces/kube-system/rolebindings",
      node: "/api/v1/nodes",
      lease: "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases",
      service: "/api/v1/namespaces/default/services",
    };
    for (const [name, p] of Object.entries(paths)) {
      const body = Buffer.from(objs.find((o) => o.name === name)!.protobuf, "base64");
      const res = await api.handle(new Request(`http://c${p}`, { method: "POST", body, headers: { "content-type": "application/vnd.kubernetes.protobuf" } }));
      expect(res.status, `${name}: ${await res.clone().text()}`).toBe(201);
    }
  }, 300_000);

  it("the checked-in type tables are what tools/k8s-types produces from k8s.io/api", async () => {
    const generated = await new Promise<string>((resolve, reject) =>
      execFile("go", ["run", "."], { cwd: path.join(ENCODER_DIR, "../../../tools/k8s-types"), env: { ...process.env, GOFLAGS: "-mod=mod" }, maxBuffer: 64 << 20, timeout: 280_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(stderr)) : resolve(stdout),
      ),
    );
    expect(generated === readFileSync(path.join(ENCODER_DIR, "../../../durable-objects/apiserver/protobuf-schemas/k8s.ts"), "utf8")).toBe(true);
  }, 300_000);

  it("randomly filled objects of every decoded kind (every schema field) decode to encoding/json's JSON", async () => {
    const objs = await encode(["fuzz"]);
    expect(objs.length).toBeGreaterThan(100);
    for (const o of objs) expect(decodeB64(o.protobuf), o.name).toEqual(o.json);
  }, 300_000);
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
function kubectl(bin: string, server: string, dir: string, args: string[]): Promise<Run> {
  const full = ["--server", server, "--token", "x", "--cache-dir", path.join(dir, "cache"), ...args];
  return new Promise((resolve) => {
    execFile(bin, full, { env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG: path.join(dir, "none") }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

for (const version of ["1.32", "1.33"]) {
  const bin = kubectlPath(version);
  if (!bin) console.warn(`kubectl.${version} not found beside the kubectl on PATH; skipping its protobuf tests`);

  describe.skipIf(!bin)(`kubectl ${version} typed creates (protobuf bodies)`, () => {
    let served: Awaited<ReturnType<typeof serveApiServer>>;
    let dir: string;
    beforeAll(async () => {
      served = await serveApiServer(newServer({ kubernetesVersion: "v1.32.0" }).api);
      dir = mkdtempSync(path.join(os.tmpdir(), "kubectl-protobuf-"));
    });
    afterAll(async () => {
      await served?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });
    const k = (...args: string[]) => kubectl(bin!, served.url, dir, args);
    const getJson = async (...args: string[]) => {
      const r = await k("get", ...args, "-o", "json");
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout);
    };

    it("create deployment", async () => {
      const r = await k("create", "deployment", "x", "--image=nginx", "--replicas=2", "--port=80");
      expect(r.code, r.stderr).toBe(0);
      const d = await getJson("deployment", "x");
      expect(d.spec.replicas).toBe(2);
      expect(d.spec.selector).toEqual({ matchLabels: { app: "x" } });
      expect(d.spec.template.spec.containers).toEqual([expect.objectContaining({ name: "nginx", image: "nginx", ports: [{ containerPort: 80 }] })]);
    });

    it("create clusterrolebinding, role, rolebinding, clusterrole", async () => {
      let r = await k("create", "clusterrolebinding", "crb", "--clusterrole=view", "--user=alice", "--group=devs", "--serviceaccount=default:sa");
      expect(r.code, r.stderr).toBe(0);
      const crb = await getJson("clusterrolebinding", "crb");
      expect(crb.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" });
      expect(crb.subjects).toEqual(
        expect.arrayContaining([
          { kind: "User", apiGroup: "rbac.authorization.k8s.io", name: "alice" },
          { kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: "devs" },
          { kind: "ServiceAccount", name: "sa", namespace: "default" },
        ]),
      );
      r = await k("create", "role", "pod-reader", "--verb=get,list", "--resource=pods,pods/log", "--resource-name=p1");
      expect(r.code, r.stderr).toBe(0);
      const role = await getJson("role", "pod-reader");
      expect(role.rules).toEqual([{ verbs: ["get", "list"], apiGroups: [""], resources: ["pods", "pods/log"], resourceNames: ["p1"] }]);
      r = await k("create", "rolebinding", "rb", "--role=pod-reader", "--user=bob");
      expect(r.code, r.stderr).toBe(0);
      expect((await getJson("rolebinding", "rb")).roleRef.name).toBe("pod-reader");
      r = await k("create", "clusterrole", "agg", "--aggregation-rule=example.com/agg=true");
      expect(r.code, r.stderr).toBe(0);
      expect((await getJson("clusterrole", "agg")).aggregationRule).toEqual({ clusterRoleSelectors: [{ matchLabels: { "example.com/agg": "true" } }] });
    });

    it("run a pod", async () => {
      const r = await k("run", "p", "--image=nginx", "--labels=app=p", "--env=A=1", "--port=8080");
      expect(r.code, r.stderr).toBe(0);
      const p = await getJson("pod", "p");
      expect(p.metadata.labels).toEqual({ app: "p" });
      expect(p.spec.containers[0]).toEqual(expect.objectContaining({ name: "p", image: "nginx", env: [{ name: "A", value: "1" }], ports: [{ containerPort: 8080 }] }));
    });
  });
}
