// PKI: certificates checked with node:crypto (OpenSSL) and, where installed, the openssl CLI.
import { describe, expect, it } from "vitest";
import { X509Certificate, createPrivateKey, createPublicKey } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse } from "yaml";
import * as k8s from "@kubernetes/client-node";
import forge from "node-forge";
import { generateCA, issueCert, kubeconfigFor, loadCA } from "../../controller/pki/index.js";

const YEAR_MS = 365 * 86_400_000;
const hasOpenssl = (() => {
  try {
    execFileSync("openssl", ["version"]);
    return true;
  } catch {
    return false;
  }
})();

/** The authorityKeyIdentifier extension's value (the OCTET STRING after OID 2.5.29.35; short enough for a one-byte length). */
function authorityKeyId(der: Buffer): Buffer | undefined {
  const oid = Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x23]);
  const at = der.indexOf(oid);
  if (at < 0) return undefined;
  const octet = at + oid.length;
  return der.subarray(octet + 2, octet + 2 + der[octet + 1]);
}

/** DER bytes of the subject Name, read from the certificate's own encoding (tbsCertificate field 6). */
function rawSubject(certPem: string): Buffer {
  const der = new X509Certificate(certPem).raw;
  // Minimal DER walker: enough for a certificate's top-level TBS fields.
  const readTL = (b: Buffer, off: number) => {
    let len = b[off + 1];
    let hdr = 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + b[off + 2 + i];
      hdr += n;
    }
    return { hdr, len, end: off + hdr + len };
  };
  const cert = readTL(der, 0);
  let off = cert.hdr; // tbsCertificate
  const tbs = readTL(der, off);
  off += tbs.hdr;
  const fields: Buffer[] = [];
  while (off < tbs.end) {
    const f = readTL(der, off);
    fields.push(der.subarray(off, f.end));
    off = f.end;
  }
  // [0] version, serial, signature alg, issuer, validity, subject
  return fields[0][0] === 0xa0 ? fields[5] : fields[4];
}

describe("generateCA", () => {
  it("makes an RSA-2048 CA by default, self-signed, CA:true, valid about 10 years", async () => {
    const ca = await generateCA("kubernetes");
    const cert = new X509Certificate(ca.certPem);
    expect(cert.subject).toBe("CN=kubernetes");
    expect(cert.ca).toBe(true);
    expect(cert.checkIssued(cert)).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.publicKey.asymmetricKeyType).toBe("rsa");
    expect(cert.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    const life = Date.parse(cert.validTo) - Date.parse(cert.validFrom);
    expect(life).toBeGreaterThan(9.9 * YEAR_MS);
    expect(life).toBeLessThan(10.1 * YEAR_MS);
    // The key is PKCS#1, as CAPI writes `<cluster>-ca` tls.key, and belongs to the certificate.
    expect(ca.keyPem.startsWith("-----BEGIN RSA PRIVATE KEY-----")).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(ca.keyPem))).toBe(true);
  });

  it("makes an ECDSA P-256 CA on request", async () => {
    const ca = await generateCA("etcd-ca", { rsa: false });
    const cert = new X509Certificate(ca.certPem);
    expect(cert.ca).toBe(true);
    expect(cert.publicKey.asymmetricKeyType).toBe("ec");
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
    expect(ca.keyPem.startsWith("-----BEGIN EC PRIVATE KEY-----")).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(ca.keyPem))).toBe(true);
  });
});

describe("issueCert", () => {
  it("issues an ECDSA P-256 server cert chained to an RSA CA, with CN, O and SANs", async () => {
    const ca = await generateCA("kubernetes");
    const leaf = await issueCert(ca, {
      commonName: "kube-apiserver",
      organization: ["a", "b"],
      dnsNames: ["kubernetes.default.svc", "vip.example"],
      ipAddresses: ["127.0.0.1", "::1", "10.0.0.7"],
      usage: "server",
    });
    const cert = new X509Certificate(leaf.certPem);
    const caCert = new X509Certificate(ca.certPem);
    expect(cert.subject.split("\n")).toEqual(["CN=kube-apiserver", "O=a", "O=b"]);
    expect(cert.issuer).toBe("CN=kubernetes");
    expect(cert.ca).toBe(false);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.publicKey.asymmetricKeyType).toBe("ec");
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
    expect(cert.checkPrivateKey(createPrivateKey(leaf.keyPem))).toBe(true);
    expect(cert.checkHost("vip.example")).toBe("vip.example");
    expect(cert.checkHost("kubernetes.default.svc")).toBe("kubernetes.default.svc");
    expect(cert.checkHost("other.example")).toBeUndefined();
    for (const ip of ["127.0.0.1", "::1", "10.0.0.7"]) expect(cert.checkIP(ip)).toBe(ip);
    expect(cert.checkIP("10.0.0.8")).toBeUndefined();
    expect(cert.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"]); // serverAuth only
    const life = Date.parse(cert.validTo) - Date.parse(cert.validFrom);
    expect(Math.round(life / YEAR_MS)).toBe(1);
  });

  it("sets client/both usages and validityDays; serials differ", async () => {
    const ca = await loadCA(await generateCA("k", { rsa: false }));
    const client = new X509Certificate((await issueCert(ca, { commonName: "admin", usage: "client", validityDays: 2 })).certPem);
    const both = new X509Certificate((await issueCert(ca, { commonName: "etcd-m1", usage: "both" })).certPem);
    expect(client.keyUsage).toEqual(["1.3.6.1.5.5.7.3.2"]);
    expect([...both.keyUsage].sort()).toEqual(["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]);
    expect(Date.parse(client.validTo) - Date.now()).toBeLessThan(2 * 86_400_000 + 60_000);
    expect(Date.parse(client.validTo) - Date.now()).toBeGreaterThan(2 * 86_400_000 - 60_000);
    expect(client.serialNumber).not.toBe(both.serialNumber);
    expect(client.subjectAltName).toBeUndefined();
  });

  it("accepts CA keys in PKCS#8 too and refuses bad IPs", async () => {
    const ca = await generateCA("kubernetes");
    const pkcs8 = createPrivateKey(ca.keyPem).export({ type: "pkcs8", format: "pem" }) as string;
    const leaf = await issueCert({ certPem: ca.certPem, keyPem: pkcs8 }, { commonName: "x", usage: "client" });
    expect(new X509Certificate(leaf.certPem).verify(createPublicKey(ca.certPem))).toBe(true);
    await expect(issueCert(ca, { commonName: "x", usage: "server", ipAddresses: ["not-an-ip"] })).rejects.toThrow(/not an IP/);
  });

  it("signs from a CA it just generated exactly as from the same CA read back from PEM", async () => {
    for (const rsa of [true, false]) {
      const ca = await generateCA("kubernetes", { rsa });
      const remembered = new X509Certificate((await issueCert(ca, { commonName: "a", usage: "client" })).certPem);
      // Re-encoding the key gives other PEM text, so this CA is parsed from scratch.
      const pkcs8 = createPrivateKey(ca.keyPem).export({ type: "pkcs8", format: "pem" }) as string;
      const parsed = new X509Certificate((await issueCert({ certPem: ca.certPem, keyPem: pkcs8 }, { commonName: "a", usage: "client" })).certPem);
      const caCert = new X509Certificate(ca.certPem);
      expect(remembered.raw.indexOf(rawSubject(ca.certPem))).toBeGreaterThan(0);
      expect(remembered.verify(caCert.publicKey)).toBe(true);
      expect(authorityKeyId(remembered.raw)).toEqual(authorityKeyId(parsed.raw));
      expect(authorityKeyId(remembered.raw)?.length).toBeGreaterThan(0);
    }
  });

  it.skipIf(!hasOpenssl)("copies a foreign CA's subject bytes exactly into the issuer (openssl-made CA, UTF8String)", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "capim-pki-"));
    try {
      const key = path.join(dir, "ca.key");
      const crt = path.join(dir, "ca.crt");
      execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt, "-subj", "/O=Test, Inc/CN=kubernetes", "-days", "30"], { stdio: "ignore" });
      const { readFileSync } = await import("node:fs");
      const ca = { certPem: readFileSync(crt, "utf8"), keyPem: readFileSync(key, "utf8") };
      const leaf = await issueCert(ca, { commonName: "kube-apiserver", usage: "server", dnsNames: ["localhost"] });
      const leafDer = new X509Certificate(leaf.certPem).raw;
      expect(leafDer.indexOf(rawSubject(ca.certPem))).toBeGreaterThan(0);
      const leafFile = path.join(dir, "leaf.crt");
      writeFileSync(leafFile, leaf.certPem);
      expect(execFileSync("openssl", ["verify", "-CAfile", crt, "-purpose", "sslserver", leafFile], { encoding: "utf8" })).toMatch(/OK/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const { asn1 } = forge;
type Asn1 = forge.asn1.Asn1;
const KNOWN_EXTENSIONS = new Set(["2.5.29.35", "2.5.29.19", "2.5.29.37", "2.5.29.15", "2.5.29.17", "2.5.29.14"]);
const strictFromDer = asn1.fromDer as unknown as (bytes: string, o: { strict: boolean; decodeBitStrings: boolean }) => Asn1;
const kids = (a: Asn1): Asn1[] => a.value as Asn1[];

describe("certificate encoding (controller/pki/x509.ts)", () => {
  // Read by OpenSSL (X509Certificate), then parsed strictly and re-encoded: the same bytes mean canonical
  // DER, extension values included. The fields' meaning is checked through OpenSSL below and elsewhere;
  // Go's strict parser (kubectl, client-go, CAPI) reads every certificate the integration tests make.
  function expectCanonical(pem: string): Asn1 {
    const der = new X509Certificate(pem).raw.toString("binary");
    const cert = strictFromDer(der, { strict: true, decodeBitStrings: false });
    expect(asn1.toDer(cert).getBytes() === der).toBe(true);
    const tbs = kids(cert)[0];
    const exts = kids(kids(kids(tbs).find((f) => f.tagClass === asn1.Class.CONTEXT_SPECIFIC && f.type === 3)!)[0]);
    expect(exts.length).toBeGreaterThan(0);
    for (const e of exts) {
      const id = asn1.derToOid(kids(e)[0].value as string);
      expect(KNOWN_EXTENSIONS.has(id), `extension ${id}`).toBe(true);
      const value = kids(e)[kids(e).length - 1].value as string;
      expect(asn1.toDer(strictFromDer(value, { strict: true, decodeBitStrings: false })).getBytes() === value, `extension ${id}`).toBe(true);
    }
    return tbs;
  }

  it("writes CAs and leaves that a schema-driven ASN.1 library re-encodes byte for byte", async () => {
    for (const rsa of [true, false]) {
      const ca = await generateCA("kubernetes", { rsa });
      expectCanonical(ca.certPem);
      for (const usage of ["server", "client", "both"] as const) {
        const leaf = await issueCert(ca, { commonName: "kube-apiserver", organization: ["system:masters", "Ops, Inc"], usage, dnsNames: ["localhost", "kubernetes.default.svc"], ipAddresses: ["127.0.0.1"] });
        expectCanonical(leaf.certPem);
      }
    }
  });

  it("encodes long names (multi-byte lengths), IPv6 SANs, non-ASCII names and times after 2049", async () => {
    const ca = await generateCA("kubernetes", { rsa: false });
    const longName = "n".repeat(300);
    const leaf = await issueCert(ca, {
      commonName: `${longName}-ü`,
      usage: "server",
      dnsNames: Array.from({ length: 20 }, (_, i) => `host-${i}.example.com`),
      ipAddresses: ["::1", "fe80::1:2", "::ffff:10.1.2.3", "2001:db8::", "10.0.0.1"],
      validityDays: 25 * 365, // into the 2050s: UTCTime would read back as the 1950s
    });
    const tbs = expectCanonical(leaf.certPem);
    const x = new X509Certificate(leaf.certPem);
    expect(x.subject).toContain(`CN=${longName}-ü`);
    expect(x.subjectAltName).toContain("IP Address:0:0:0:0:0:0:0:1");
    expect(x.subjectAltName).toContain("IP Address:FE80:0:0:0:0:0:1:2");
    expect(x.subjectAltName).toContain("IP Address:0:0:0:0:0:FFFF:A01:203");
    expect(x.subjectAltName).toContain("IP Address:2001:DB8:0:0:0:0:0:0");
    expect(x.subjectAltName).toContain("IP Address:10.0.0.1");
    expect(x.subjectAltName).toContain("DNS:host-19.example.com");
    // Past 2049 RFC 5280 switches to GeneralizedTime (validity is TBS field 5, after the version).
    const [notBefore, notAfter] = kids(kids(tbs)[4]);
    expect(notBefore.type).toBe(asn1.Type.UTCTIME);
    expect(notAfter.type).toBe(asn1.Type.GENERALIZEDTIME);
    expect(new Date(x.validTo).getUTCFullYear()).toBeGreaterThan(2049);
    expect(x.verify(createPublicKey(ca.certPem))).toBe(true);
  });
});

describe("kubeconfigFor", () => {
  it("writes a kubeconfig that YAML and client-node read back, with tricky names kept as strings", async () => {
    const ca = await generateCA("kubernetes", { rsa: false });
    const client = await issueCert(ca, { commonName: "y-admin", organization: ["system:masters"], usage: "client" });
    for (const clusterName of ["y", "no", "1e3", "null", "on"]) {
      const text = kubeconfigFor({ clusterName, server: "https://127.0.0.1:20001", caPem: ca.certPem, clientCertPem: client.certPem, clientKeyPem: client.keyPem });
      const doc = parse(text, { version: "1.1" });
      expect(doc.clusters[0].name).toBe(clusterName);
      expect(doc.contexts[0].context.cluster).toBe(clusterName);
      const kc = new k8s.KubeConfig();
      kc.loadFromString(text);
      expect(kc.getCurrentCluster()?.name).toBe(clusterName);
      expect(kc.getCurrentCluster()?.server).toBe("https://127.0.0.1:20001");
      expect(Buffer.from(kc.getCurrentCluster()!.caData!, "base64").toString()).toBe(ca.certPem);
      expect(Buffer.from(kc.getCurrentUser()!.certData!, "base64").toString()).toBe(client.certPem);
      expect(Buffer.from(kc.getCurrentUser()!.keyData!, "base64").toString()).toBe(client.keyPem);
      expect(kc.getCurrentUser()?.name).toBe(`${clusterName}-admin`);
    }
    expect(kubeconfigFor({ clusterName: "c", server: "https://h:1", caPem: "x", clientCertPem: "y", clientKeyPem: "z", user: "u" })).toMatch(/current-context: "u@c"/);
  });
});
