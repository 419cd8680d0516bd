import { describe, expect, it } from "vitest";
import { formatGoDuration, parseGoDuration, parseJitter } from "../../edge-contract/durations.js";
import {
  drawDelay,
  dueSteps,
  isProvisioned,
  machineConditions,
  nextDueAt,
  parseProvisioning,
  planMachine,
  type MachineRecord,
} from "../../durable-objects/machines/timeline.js";

describe("Go durations", () => {
  it.each([
    ["10s", 10_000],
    ["1m30s", 90_000],
    ["500ms", 500],
    ["1.5h", 5_400_000],
    ["0", 0],
    ["0s", 0],
    ["2h45m0.5s", 2 * 3_600_000 + 45 * 60_000 + 500],
    ["1500us", 1.5],
    ["1500\u00b5s", 1.5],
    ["3000000ns", 3],
    [".5s", 500],
    ["1.s", 1000],
    ["+5s", 5000],
    ["-5s", -5000],
  ])("parses %s", (text, ms) => {
    expect(parseGoDuration(text)).toBeCloseTo(ms, 9);
  });

  it.each(["", "10", "s", ".s", "10x", "1d", "10 s", " 10s", "1m30", "--1s", "1e3s", "NaN"])("rejects %j", (text) => {
    expect(() => parseGoDuration(text)).toThrow(/duration|unit/);
  });

  it("rejects durations beyond Go's int64 range", () => {
    expect(() => parseGoDuration("3000000h")).toThrow();
    expect(parseGoDuration("2562047h")).toBe(2562047 * 3_600_000);
  });

  it("formats like Go's Duration.String", () => {
    expect(formatGoDuration(90_000)).toBe("1m30s");
    expect(formatGoDuration(500)).toBe("500ms");
    expect(formatGoDuration(0)).toBe("0s");
    expect(formatGoDuration(5_400_000)).toBe("1h30m0s");
    expect(formatGoDuration(10_500)).toBe("10.5s");
    for (const t of ["1m30s", "500ms", "1h30m0s", "10.5s", "2h0m1.25s"]) expect(formatGoDuration(parseGoDuration(t))).toBe(t);
  });

  it("parses jitter strings and numbers, rejecting garbage and negatives", () => {
    expect(parseJitter("0.2")).toBe(0.2);
    expect(parseJitter("1")).toBe(1);
    expect(parseJitter(".5")).toBe(0.5);
    expect(parseJitter(0.3)).toBe(0.3);
    for (const bad of ["abc", "-0.1", "", "0.2.3", "Infinity", null, {}, -1, Number.NaN]) expect(() => parseJitter(bad)).toThrow();
  });
});

describe("provisioning blocks", () => {
  it("accepts the four steps and keeps what was sent", () => {
    const { spec, parsed } = parseProvisioning({
      vm: { startupDuration: "10s", startupJitter: "0.2" },
      node: { startupDuration: "2s" },
    });
    expect(spec).toEqual({ vm: { startupDuration: "10s", startupJitter: "0.2" }, node: { startupDuration: "2s" } });
    expect(parsed).toEqual({ vm: { durationMs: 10_000, jitter: 0.2 }, node: { durationMs: 2000, jitter: 0 } });
    expect(parseProvisioning(undefined)).toEqual({ spec: {}, parsed: {} });
  });

  it.each([
    [[], /must be an object/],
    [{ kubelet: { startupDuration: "1s" } }, /unknown step/],
    [{ vm: "10s" }, /vm: must be an object/],
    [{ vm: {} }, /vm.startupDuration: required/],
    [{ vm: { startupDuration: "10" } }, /vm.startupDuration: time: invalid duration/],
    [{ vm: { startupDuration: "-1s" } }, /must not be negative/],
    [{ etcd: { startupDuration: "1s", startupJitter: "x" } }, /etcd.startupJitter/],
  ])("rejects %j", (value, re) => {
    expect(() => parseProvisioning(value)).toThrow(re);
  });
});

describe("timeline", () => {
  const t0 = Date.parse("2026-03-01T12:00:00Z");
  const plan = (controlPlane: boolean, random: () => number): MachineRecord => {
    const { spec, parsed } = parseProvisioning({
      vm: { startupDuration: "10s", startupJitter: "0.2" },
      node: { startupDuration: "2s", startupJitter: "0.2" },
      etcd: { startupDuration: "3s", startupJitter: "0.5" },
      apiServer: { startupDuration: "1s" },
    });
    return planMachine({ name: "m1", controlPlane, version: "v1.31.0", provisioning: spec, parsed }, t0, random);
  };

  it("draws each delay within [d, d + jitter*d]", () => {
    expect(drawDelay(10_000, 0.2, () => 0)).toBe(10_000);
    expect(drawDelay(10_000, 0.2, () => 0.999999)).toBeLessThan(12_000);
    expect(drawDelay(10_000, 0, () => 0.7)).toBe(10_000);
    for (let i = 0; i < 50; i++) {
      const rec = plan(true, Math.random);
      const { vm, node, etcd, apiServer } = rec.steps;
      expect(vm!.delayMs).toBeGreaterThanOrEqual(10_000);
      expect(vm!.delayMs).toBeLessThanOrEqual(12_000);
      expect(node!.delayMs).toBeGreaterThanOrEqual(2000);
      expect(node!.delayMs).toBeLessThanOrEqual(2400);
      expect(etcd!.delayMs).toBeGreaterThanOrEqual(3000);
      expect(etcd!.delayMs).toBeLessThanOrEqual(4500);
      expect(apiServer!.delayMs).toBe(1000);
    }
  });

  it("draws once per step and chains due times on the predecessor's due time", () => {
    const draws = [0.5, 0.25, 0.1, 0.9];
    let calls = 0;
    const rec = plan(true, () => draws[calls++]);
    expect(calls).toBe(4);
    expect(rec.steps.vm!.dueAt).toBe(t0 + 11_000);
    expect(rec.steps.node!.dueAt).toBe(t0 + 11_000 + 2100);
    expect(rec.steps.etcd!.dueAt).toBe(t0 + 13_100 + 3150);
    expect(rec.steps.apiServer!.dueAt).toBe(t0 + 13_100 + 1000);
    // A worker has only vm and node.
    const worker = plan(false, () => 0);
    expect(Object.keys(worker.steps)).toEqual(["vm", "node"]);
  });

  it("lets steps run only in order, catching up when late", () => {
    const rec = plan(true, () => 0);
    expect(nextDueAt(rec)).toBe(t0 + 10_000);
    expect(dueSteps(rec, t0 + 9_999)).toEqual([]);
    expect(dueSteps(rec, t0 + 10_000)).toEqual(["vm"]);
    // A late alarm (long after everything was due) runs all steps in their order.
    expect(dueSteps(rec, t0 + 60_000)).toEqual(["vm", "node", "etcd", "apiServer"]);
    rec.steps.vm!.doneAt = t0 + 10_000;
    expect(nextDueAt(rec)).toBe(t0 + 12_000);
    expect(dueSteps(rec, t0 + 13_000)).toEqual(["node", "apiServer"]);
    // apiServer cannot run before node even if its own time has come.
    rec.steps.node!.dueAt = t0 + 20_000;
    expect(dueSteps(rec, t0 + 15_500)).toEqual([]);
  });

  it("derives conditions and reasons from the steps", () => {
    const rec = plan(true, () => 0);
    const byType = () => Object.fromEntries(machineConditions(rec).map((c) => [c.type, c]));
    let c = byType();
    expect(c.VMProvisioned).toMatchObject({ status: "False", reason: "WaitingForStartupTimeout" });
    expect(c.NodeProvisioned).toMatchObject({ status: "False", reason: "WaitingForVMProvisioned" });
    expect(c.EtcdProvisioned).toMatchObject({ status: "False", reason: "WaitingForNodeProvisioned" });
    expect(c.APIServerProvisioned).toMatchObject({ status: "False", reason: "WaitingForNodeProvisioned" });
    expect(c.Ready).toMatchObject({ status: "False", reason: "WaitingForStartupTimeout" });
    rec.steps.vm!.doneAt = t0 + 10_500;
    c = byType();
    expect(c.VMProvisioned).toMatchObject({ status: "True", reason: "Provisioned", lastTransitionTime: new Date(t0 + 10_500).toISOString() });
    expect(c.NodeProvisioned).toMatchObject({ status: "False", reason: "WaitingForStartupTimeout" });
    rec.steps.node!.doneAt = t0 + 12_000;
    rec.steps.apiServer!.doneAt = t0 + 13_000;
    c = byType();
    expect(c.EtcdProvisioned).toMatchObject({ status: "False", reason: "WaitingForStartupTimeout" });
    expect(c.APIServerProvisioned.status).toBe("True");
    expect(isProvisioned(rec)).toBe(false);
    rec.steps.etcd!.doneAt = t0 + 15_000;
    c = byType();
    expect(c.Ready).toMatchObject({ status: "True", reason: "Provisioned", lastTransitionTime: new Date(t0 + 15_000).toISOString() });
    expect(isProvisioned(rec)).toBe(true);
    expect(nextDueAt(rec)).toBeNull();
    expect(machineConditions(rec).map((x) => x.type)).toEqual([
      "VMProvisioned",
      "NodeProvisioned",
      "EtcdProvisioned",
      "APIServerProvisioned",
      "Ready",
    ]);
  });
});
