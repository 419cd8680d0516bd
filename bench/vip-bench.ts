// VIP certificate and listener costs: CA keygen, leaf issuance, and opening N cluster VIPs (TLS listener +
// apiserver serving cert each). No edge traffic: the listeners point at an unused edge URL.
// Run alone: `npx tsx bench/vip-bench.ts` (VIP_BENCH_N sets the VIP count, default 1000).
import { pathToFileURL } from "node:url";
import { generateCA, issueCert, loadCA, type CertKeyPair } from "../controller/pki/index.js";
import { VipManager } from "../controller/vip/index.js";
import { createLogger } from "../controller/log.js";
import { createMetrics } from "../controller/metrics.js";

async function timeOps(n: number, op: (i: number) => Promise<unknown>): Promise<{ msPerOp: number; p50: number; p99: number }> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await op(i);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))];
  return { msPerOp: times.reduce((a, b) => a + b, 0) / n, p50: q(0.5), p99: q(0.99) };
}

const f = (n: number, d = 2) => n.toFixed(d);
const mb = (b: number) => `${Math.round(b / 2 ** 20)} MB`;

export async function benchVipCerts(opts: { vips?: number } = {}): Promise<string> {
  const vips = opts.vips ?? Number(process.env.VIP_BENCH_N ?? 1000);
  const rows: string[] = [];
  const row = (what: string, n: number, r: { msPerOp: number; p50: number; p99: number }) =>
    rows.push(`| ${what} | ${n} | ${f(r.msPerOp)} | ${f(r.p50)} | ${f(r.p99)} |`);

  const rsaCas: CertKeyPair[] = [];
  row("CA keygen + self-sign, RSA-2048 (native)", 5, await timeOps(5, async () => rsaCas.push(await generateCA("kubernetes"))));
  const ecCa = await generateCA("kubernetes", { rsa: false });
  row("CA keygen + self-sign, ECDSA P-256", 50, await timeOps(50, () => generateCA("kubernetes", { rsa: false })));
  const rsaLoaded = await loadCA(rsaCas[0]);
  const ecLoaded = await loadCA(ecCa);
  const leaf = { commonName: "kube-apiserver", dnsNames: ["localhost", "kubernetes"], ipAddresses: ["127.0.0.1", "::1"], usage: "server" as const };
  row("leaf (ECDSA P-256) signed by RSA CA, CA key loaded once", 300, await timeOps(300, () => issueCert(rsaLoaded, leaf)));
  row("leaf (ECDSA P-256) signed by EC CA, CA key loaded once", 300, await timeOps(300, () => issueCert(ecLoaded, leaf)));
  // Every cluster has its own CA, parsed when its VIP opens. Here a few CAs serve many operations, so each
  // gets its own PEM text (trailing blanks, ignored by the parsers) to keep pki's recent-CA cache from hiding that.
  let uses = 0;
  const asNew = (ca: CertKeyPair): CertKeyPair => ({ certPem: ca.certPem + " ".repeat(++uses), keyPem: ca.keyPem });
  row("leaf signed by RSA CA from PEM (parse + import + sign)", 300, await timeOps(300, () => issueCert(asNew(rsaCas[0]), leaf)));

  // N VIPs: each open parses its CA, issues the serving cert and binds a TLS listener. CAs are reused
  // round-robin (generating 1000 RSA CAs would measure keygen, which CAPI does, not the controller).
  const manager = new VipManager({
    edgeUrl: "http://127.0.0.1:9",
    edgeToken: "bench",
    host: "127.0.0.1",
    logger: createLogger({ level: "warn" }),
    metrics: createMetrics(),
  });
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  let opened = 0;
  let failure = "";
  try {
    for (let i = 0; i < vips; i++) {
      await manager.open({ namespace: "bench", name: `c${i}`, ca: asNew(rsaCas[i % rsaCas.length]) });
      opened++;
    }
  } catch (err) {
    failure = ` (stopped: ${(err as Error).message})`;
  }
  const openMs = performance.now() - t0;
  const rss1 = process.memoryUsage().rss;
  const t1 = performance.now();
  await manager.closeAll();
  const closeMs = performance.now() - t1;

  return [
    "| operation | n | ms/op | p50 ms | p99 ms |",
    "|---|---|---|---|---|",
    ...rows,
    "",
    `Opening ${opened} VIPs sequentially (RSA-2048 cluster CAs, ECDSA serving cert + TLS listener each): ` +
      `${f(openMs / 1000)} s total, ${f(openMs / Math.max(1, opened))} ms per VIP, RSS +${mb(rss1 - rss0)}; ` +
      `closing all: ${f(closeMs)} ms${failure}.`,
    "",
  ].join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(await benchVipCerts());
}
