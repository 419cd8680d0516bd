// Real kubectl (1.29 and 1.32) against handleDiscovery: version, api-resources, api-versions, explain,
// and create/apply with default (strict) validation, which needs the OpenAPI v3 documents to satisfy
// kubectl's field-validation check and strategic-merge patch computation without /openapi/v2.
//
// Part 1 serves handleDiscovery from a small node:http server whose only other behaviour is a
// fixed set of "current" objects (GET) and recording PATCH/POST bodies, so the apply path can be
// observed exactly. Part 2 runs kubectl against the real ApiServer (test/helpers/node-host.ts).
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { handleDiscovery } from "../../durable-objects/apiserver/discovery.js";
import { BUILTIN_KINDS } from "../../durable-objects/apiserver/kinds.js";
import type { KindInfo } from "../../durable-objects/apiserver/types.js";
import { kubectlPath } from "../helpers/edge.js";
import { newServer, serveApiServer } from "../helpers/node-host.js";

const WIDGET: KindInfo = {
  group: "example.com",
  versions: ["v1"],
  kind: "Widget",
  listKind: "WidgetList",
  resource: "widgets",
  singular: "widget",
  namespaced: true,
  shortNames: ["wd"],
  subresources: ["status"],
  hasStatusSubresource: true,
  custom: true,
  schemas: {
    v1: {
      type: "object",
      properties: { spec: { type: "object", properties: { size: { type: "integer" }, tags: { type: "array", items: { type: "string" } } } } },
    },
  },
};
const KINDS: KindInfo[] = [...BUILTIN_KINDS, WIDGET];

const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

const deployment = (image: string, env: Array<{ name: string; value: string }>) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: "default", labels: { app: "web" } },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: "web" } },
    template: {
      metadata: { labels: { app: "web" } },
      spec: {
        containers: [{ name: "web", image, ports: [{ containerPort: 80 }], env, volumeMounts: [{ name: "cfg", mountPath: "/cfg" }] }],
        volumes: [{ name: "cfg", configMap: { name: "cm1" } }],
      },
    },
  },
});
const configMap = (data: Record<string, string>) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "cm1", namespace: "default" },
  data,
});
const widget = (size: number) => ({ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w1", namespace: "default" }, spec: { size } });

const yamlDocs = (...objs: unknown[]) => objs.map((o) => stringify(o)).join("---\n");

interface Recorded {
  method: string;
  url: string;
  accept: string;
  contentType: string;
  body: string;
}

/** Objects as the server "has" them: what kubectl last applied, so `apply` computes a patch. */
function withLastApplied(obj: Record<string, any>): Record<string, any> {
  const copy = structuredClone(obj);
  copy.metadata.annotations = { [LAST_APPLIED]: JSON.stringify(obj) };
  copy.metadata.resourceVersion = "5";
  copy.metadata.uid = "00000000-0000-0000-0000-000000000001";
  return copy;
}

const CURRENT: Record<string, Record<string, any>> = {
  "/apis/apps/v1/namespaces/default/deployments/web": withLastApplied(deployment("nginx:1", [{ name: "A", value: "1" }])),
  "/api/v1/namespaces/default/configmaps/cm1": withLastApplied(configMap({ a: "1" })),
  "/apis/example.com/v1/namespaces/default/widgets/w1": withLastApplied(widget(1)),
};

async function startStub(opts: { legacyOnly: boolean }): Promise<{ url: string; log: Recorded[]; server: Server }> {
  const log: Recorded[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
      // Legacy mode: hide the aggregated-discovery media types, like an old apiserver would ignore them.
      if (opts.legacyOnly) headers.set("accept", "application/json");
      const body = Buffer.concat(chunks).toString("utf8");
      log.push({ method: req.method ?? "", url: req.url ?? "", accept: req.headers.accept ?? "", contentType: req.headers["content-type"] ?? "", body });
      const answer = handleDiscovery(url, headers, KINDS, { gitVersion: "v1.31.4" });
      if (answer) {
        const h: Record<string, string> = {};
        answer.headers.forEach((v, k) => (h[k] = v));
        res.writeHead(answer.status, h).end(Buffer.from(await answer.arrayBuffer()));
        return;
      }
      const current = CURRENT[url.pathname];
      const json = (code: number, obj: unknown) => res.writeHead(code, { "content-type": "application/json" }).end(JSON.stringify(obj));
      if (current && (req.method === "GET" || req.method === "PATCH")) return json(200, current);
      json(404, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", reason: "NotFound", code: 404, message: "not found" });
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, log, server };
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function kubectl(bin: string, server: string, dir: string, args: string[], verbosity = 0): Promise<Run> {
  const full = ["--server", server, "--token", "x", "--cache-dir", path.join(dir, "cache"), ...(verbosity ? [`-v=${verbosity}`] : []), ...args];
  return new Promise((resolve) => {
    execFile(bin, full, { env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG: path.join(dir, "none") }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const VERSIONS = ["1.29", "1.32"].map((v) => ({ v, bin: kubectlPath(v) }));

for (const { v, bin } of VERSIONS) {
  describe.skipIf(!bin)(`kubectl ${v} against handleDiscovery`, () => {
    let stub: Awaited<ReturnType<typeof startStub>>;
    let dir: string;
    const run = (args: string[], verbosity = 0) => kubectl(bin!, stub.url, dir, args, verbosity);

    beforeAll(async () => {
      stub = await startStub({ legacyOnly: false });
      dir = mkdtempSync(path.join(os.tmpdir(), "kubectl-discovery-"));
    });
    afterAll(async () => {
      await new Promise((r) => stub.server.close(r));
      rmSync(dir, { recursive: true, force: true });
    });

    it("reports the server version", async () => {
      const r = await run(["version", "-o", "json"]);
      expect(r.code, r.stderr).toBe(0);
      const info = JSON.parse(r.stdout);
      expect(info.serverVersion).toMatchObject({ major: "1", minor: "31", gitVersion: "v1.31.4", platform: "linux/amd64" });
    });

    it("lists API resources from aggregated discovery", async () => {
      stub.log.length = 0;
      const r = await run(["api-resources"]);
      expect(r.code, r.stderr).toBe(0);
      const rows = r.stdout.split("\n").map((l) => l.trim().split(/\s+/));
      expect(rows).toContainEqual(["configmaps", "cm", "v1", "true", "ConfigMap"]);
      expect(rows).toContainEqual(["deployments", "deploy", "apps/v1", "true", "Deployment"]);
      expect(rows).toContainEqual(["nodes", "no", "v1", "false", "Node"]);
      expect(rows).toContainEqual(["secrets", "v1", "true", "Secret"]);
      expect(rows).toContainEqual(["widgets", "wd", "example.com/v1", "true", "Widget"]);
      // Aggregated discovery answers everything from /api and /apis; no per-group-version fetches.
      expect(stub.log.some((l) => l.url.startsWith("/api/v1") || l.url.startsWith("/apis/apps"))).toBe(false);
    });

    it("lists API versions", async () => {
      const r = await run(["api-versions"]);
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout.trim().split("\n");
      for (const gv of ["v1", "apps/v1", "batch/v1", "rbac.authorization.k8s.io/v1", "example.com/v1"]) expect(lines).toContain(gv);
    });

    it("explains kinds from the OpenAPI v3 documents", async () => {
      const cm = await run(["explain", "configmap"]);
      expect(cm.code, cm.stderr).toBe(0);
      expect(cm.stdout).toMatch(/KIND:\s+ConfigMap/);
      expect(cm.stdout).toMatch(/binaryData\s+<map\[string\]string>/);
      const c = await run(["explain", "deployment.spec.template.spec.containers.ports"]);
      expect(c.code, c.stderr).toBe(0);
      expect(c.stdout).toMatch(/containerPort\s+<integer> -required-/);
      const w = await run(["explain", "widgets.spec"]);
      expect(w.code, w.stderr).toBe(0);
      expect(w.stdout).toMatch(/size\s+<integer>/);
    });

    it("create and apply --dry-run=client validate through OpenAPI v3 without /openapi/v2", async () => {
      const file = path.join(dir, "new.yaml");
      writeFileSync(file, yamlDocs({ ...configMap({ b: "2" }), metadata: { name: "cm-new", namespace: "default" } }, { ...deployment("nginx", []), metadata: { name: "web-new", namespace: "default" } }, { ...widget(2), metadata: { name: "w-new", namespace: "default" } }));
      stub.log.length = 0;
      // A fresh cache dir: earlier tests cached the hash-addressed documents.
      const fresh = mkdtempSync(path.join(dir, "fresh-"));
      for (const verb of ["create", "apply"]) {
        const r = await kubectl(bin!, stub.url, fresh, [verb, "-f", file, "--dry-run=client"]);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr).not.toMatch(/openapi|validat/i);
        expect(r.stdout).toContain("configmap/cm-new created (dry run)");
        expect(r.stdout).toContain("deployment.apps/web-new created (dry run)");
        expect(r.stdout).toContain("widget.example.com/w-new created (dry run)");
      }
      const urls = stub.log.map((l) => l.url);
      expect(urls.some((u) => u.startsWith("/openapi/v3/api/v1?hash="))).toBe(true);
      expect(urls.some((u) => u.startsWith("/openapi/v3/apis/apps/v1?hash="))).toBe(true);
      expect(urls.some((u) => u.startsWith("/openapi/v2"))).toBe(false);
    });

    it("rejects nothing valid but still lets the server validate: strict validation is delegated", async () => {
      // An unknown field passes kubectl (the server would reject it with fieldValidation=Strict): this
      // shows kubectl found `fieldValidation` in our PATCH operations instead of validating locally.
      const file = path.join(dir, "unknown-field.yaml");
      writeFileSync(file, yamlDocs({ ...configMap({}), metadata: { name: "cm-x", namespace: "default" }, bogus: 1 }));
      const r = await run(["create", "-f", file, "--dry-run=client"]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain("configmap/cm-x created (dry run)");
    });

    it("apply of changed built-in objects sends strategic merge patches from the OpenAPI v3 patch metadata", async () => {
      const file = path.join(dir, "changed.yaml");
      writeFileSync(file, yamlDocs(deployment("nginx:2", [{ name: "A", value: "1" }, { name: "B", value: "2" }]), configMap({ a: "2" })));
      stub.log.length = 0;
      const r = await run(["apply", "-f", file], 5);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain("deployment.apps/web configured");
      expect(r.stdout).toContain("configmap/cm1 configured");
      // kubectl logs these (at -v=5) when it cannot use the v3 document and falls back to v2/built-ins.
      expect(r.stderr).not.toMatch(/error calculating patch|OpenAPI V3 path does not/);
      expect(stub.log.some((l) => l.url.startsWith("/openapi/v2"))).toBe(false);
      const patches = stub.log.filter((l) => l.method === "PATCH");
      const dep = patches.find((p) => p.url.startsWith("/apis/apps/v1/namespaces/default/deployments/web"))!;
      expect(dep.contentType).toBe("application/strategic-merge-patch+json");
      const depPatch = JSON.parse(dep.body);
      // Merge keys from the schema: containers by name, env by name.
      expect(depPatch.spec.template.spec["$setElementOrder/containers"]).toEqual([{ name: "web" }]);
      expect(depPatch.spec.template.spec.containers[0]).toMatchObject({ name: "web", image: "nginx:2" });
      expect(depPatch.spec.template.spec.containers[0]["$setElementOrder/env"]).toEqual([{ name: "A" }, { name: "B" }]);
      expect(depPatch.spec.template.spec.containers[0].env).toEqual([{ name: "B", value: "2" }]);
      const cm = patches.find((p) => p.url.startsWith("/api/v1/namespaces/default/configmaps/cm1"))!;
      expect(JSON.parse(cm.body).data).toEqual({ a: "2" });
    });

    it("apply of a changed custom resource sends a JSON merge patch", async () => {
      const file = path.join(dir, "changed-widget.yaml");
      writeFileSync(file, yamlDocs(widget(3)));
      stub.log.length = 0;
      const r = await run(["apply", "-f", file], 5);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain("widget.example.com/w1 configured");
      // The CRD's PATCH operation does not offer strategic merge patch, as kube-apiserver's does not.
      expect(r.stderr).toMatch(/OpenAPI V3 path does not support strategic merge patch - group: example.com, version v1, kind Widget/);
      const patch = stub.log.find((l) => l.method === "PATCH" && l.url.startsWith("/apis/example.com/v1/namespaces/default/widgets/w1"))!;
      expect(patch.contentType).toBe("application/merge-patch+json");
      expect(JSON.parse(patch.body)).toMatchObject({ spec: { size: 3 } });
    });
  });

  describe.skipIf(!bin)(`kubectl ${v} with legacy discovery only`, () => {
    let stub: Awaited<ReturnType<typeof startStub>>;
    let dir: string;
    beforeAll(async () => {
      stub = await startStub({ legacyOnly: true });
      dir = mkdtempSync(path.join(os.tmpdir(), "kubectl-discovery-legacy-"));
    });
    afterAll(async () => {
      await new Promise((r) => stub.server.close(r));
      rmSync(dir, { recursive: true, force: true });
    });

    it("reads /api/v1 and /apis/<g>/<v> resource lists", async () => {
      const r = await kubectl(bin!, stub.url, dir, ["api-resources"]);
      expect(r.code, r.stderr).toBe(0);
      const rows = r.stdout.split("\n").map((l) => l.trim().split(/\s+/));
      expect(rows).toContainEqual(["pods", "po", "v1", "true", "Pod"]);
      expect(rows).toContainEqual(["statefulsets", "sts", "apps/v1", "true", "StatefulSet"]);
      expect(rows).toContainEqual(["widgets", "wd", "example.com/v1", "true", "Widget"]);
      const urls = stub.log.map((l) => l.url.split("?")[0]);
      expect(urls).toContain("/api/v1");
      expect(urls).toContain("/apis/apps/v1");
      expect(urls).toContain("/apis/example.com/v1");
    });
  });

  describe.skipIf(!bin)(`kubectl ${v} against the real ApiServer`, () => {
    let served: Awaited<ReturnType<typeof serveApiServer>>;
    let dir: string;
    beforeAll(async () => {
      served = await serveApiServer(newServer({ kubernetesVersion: "v1.32.0" }).api);
      dir = mkdtempSync(path.join(os.tmpdir(), "kubectl-discovery-real-"));
    });
    afterAll(async () => {
      await served.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it("applies, re-applies and explains", async () => {
      const run = (args: string[]) => kubectl(bin!, served.url, dir, args);
      const file = path.join(dir, "objs.yaml");
      writeFileSync(file, yamlDocs(configMap({ a: "1" }), deployment("nginx:1", [{ name: "A", value: "1" }])));
      const first = await run(["apply", "-f", file]);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toContain("configmap/cm1 created");
      expect(first.stdout).toContain("deployment.apps/web created");

      writeFileSync(file, yamlDocs(configMap({ a: "2" }), deployment("nginx:2", [{ name: "A", value: "1" }, { name: "B", value: "2" }])));
      const second = await run(["apply", "-f", file]);
      expect(second.code, second.stderr).toBe(0);
      expect(second.stderr).not.toMatch(/warning|error/i);
      expect(second.stdout).toContain("configmap/cm1 configured");
      expect(second.stdout).toContain("deployment.apps/web configured");

      const got = await run(["get", "deployment", "web", "-n", "default", "-o", "json"]);
      expect(got.code, got.stderr).toBe(0);
      const c = JSON.parse(got.stdout).spec.template.spec.containers;
      expect(c).toHaveLength(1);
      expect(c[0].image).toBe("nginx:2");
      expect(c[0].env).toEqual([{ name: "A", value: "1" }, { name: "B", value: "2" }]);

      const ex = await run(["explain", "pods.spec.containers.env"]);
      expect(ex.code, ex.stderr).toBe(0);
      expect(ex.stdout).toMatch(/valueFrom\s+<EnvVarSource>/);
    });
  });
}
