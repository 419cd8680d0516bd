// A real Kubernetes management plane on loopback, no kind and no docker: etcd, kube-apiserver (RBAC,
// service-account tokens) and kube-controller-manager (garbage collection and namespace deletion, which
// CAPI's cluster delete relies on), built from Go modules by test/capi-e2e/build.sh.
import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import path from "node:path";
import { generateCA, issueCert, kubeconfigFor, type CertKeyPair } from "../../pki/index.js";
import { freePort, startChild, waitFor, type Child } from "./processes.js";

export interface KubePlane {
  /** https://127.0.0.1:<port> */
  server: string;
  /** cluster-admin (system:masters) kubeconfig file. */
  adminKubeconfig: string;
  ca: CertKeyPair;
  children: Child[];
  stop(): Promise<void>;
}

/** GET `path` with the admin client certificate; resolves to the status code (0 when unreachable). */
function probe(server: string, ca: string, client: CertKeyPair, urlPath: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(`${server}${urlPath}`, { ca, cert: client.certPem, key: client.keyPem, timeout: 5000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", () => resolve(0));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

export async function startKubePlane(o: { bin: string; dir: string }): Promise<KubePlane> {
  mkdirSync(o.dir, { recursive: true });
  const pki = path.join(o.dir, "pki");
  mkdirSync(pki, { recursive: true });
  const ca = await generateCA("capim-management-plane", { rsa: false });
  const serving = await issueCert(ca, {
    commonName: "kube-apiserver",
    dnsNames: ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"],
    ipAddresses: ["127.0.0.1"],
    usage: "server",
  });
  const admin = await issueCert(ca, { commonName: "capim-admin", organization: ["system:masters"], usage: "client" });
  const sa = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const files = {
    ca: path.join(pki, "ca.crt"),
    cert: path.join(pki, "apiserver.crt"),
    key: path.join(pki, "apiserver.key"),
    saKey: path.join(pki, "sa.key"),
    saPub: path.join(pki, "sa.pub"),
  };
  writeFileSync(files.ca, ca.certPem);
  writeFileSync(files.cert, serving.certPem);
  writeFileSync(files.key, serving.keyPem, { mode: 0o600 });
  writeFileSync(files.saKey, sa.privateKey.export({ type: "pkcs8", format: "pem" }) as string, { mode: 0o600 });
  writeFileSync(files.saPub, sa.publicKey.export({ type: "spki", format: "pem" }) as string);

  const children: Child[] = [];
  const stop = async () => {
    for (const c of [...children].reverse()) await c.stop();
  };
  try {
    const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    const etcd = startChild("etcd", path.join(o.bin, "etcd"), [
      "--data-dir", path.join(o.dir, "etcd"),
      "--listen-client-url", `http://127.0.0.1:${etcdPort}`,
      "--listen-peer-url", `http://127.0.0.1:${peerPort}`,
    ], { dir: o.dir });
    children.push(etcd);

    const apiserver = startChild("kube-apiserver", path.join(o.bin, "kube-apiserver"), [
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--secure-port=${apiPort}`,
      `--tls-cert-file=${files.cert}`,
      `--tls-private-key-file=${files.key}`,
      `--client-ca-file=${files.ca}`,
      "--authorization-mode=RBAC",
      "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
      `--service-account-key-file=${files.saPub}`,
      `--service-account-signing-key-file=${files.saKey}`,
      "--service-cluster-ip-range=10.96.0.0/16",
      // One apiserver on loopback: no Endpoints to reconcile, and fairness queues only cost CPU here.
      "--endpoint-reconciler-type=none",
      "--enable-priority-and-fairness=false",
      "--allow-privileged=true",
      "--v=1",
    ], { dir: o.dir });
    children.push(apiserver);
    const server = `https://127.0.0.1:${apiPort}`;
    await waitFor("kube-apiserver /readyz", async () => (await probe(server, ca.certPem, admin, "/readyz")) === 200, { child: apiserver, timeoutMs: 180_000 });

    const adminKubeconfig = path.join(o.dir, "admin.kubeconfig");
    writeFileSync(adminKubeconfig, kubeconfigFor({ clusterName: "capim-management", server, caPem: ca.certPem, clientCertPem: admin.certPem, clientKeyPem: admin.keyPem, user: "capim-admin" }), { mode: 0o600 });

    const kcm = startChild("kube-controller-manager", path.join(o.bin, "kube-controller-manager"), [
      `--kubeconfig=${adminKubeconfig}`,
      // Garbage collection (ownerReference cascade when a Cluster is deleted) and namespace deletion are
      // what CAPI needs from it; the service-account controller gives namespaces their `default` SA.
      "--controllers=garbagecollector,namespace,serviceaccount",
      "--leader-elect=false",
      "--secure-port=0",
      "--concurrent-gc-syncs=5",
      "--v=1",
    ], { dir: o.dir });
    children.push(kcm);
    return { server, adminKubeconfig, ca, children, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
