// ClusterMachines: the fake machines of one workload cluster. It owns their timelines (stored in a
// MachineStore), performs each step's effects on the cluster's API (Node, static pods, kubeadm
// objects) and on the fake etcd membership, keeps the Durable Object's single alarm at the earliest
// pending due time, and answers the cluster DO's machine and etcd admin calls (typed methods).
//
// Durability: every change is written to the stores before the response (or the alarm handler)
// returns; nothing lives only in memory, so a new ClusterMachines over the same stores (after an
// eviction) continues where the old one stopped. Step effects are create-if-missing and marking a
// step done comes after them, so re-running a step after a crash neither duplicates nor fails.
// Any admin call also catches up on overdue steps, so a late alarm is never observable.
import { ApiError } from "../apiserver/types.js";
import type { MachineJson, MachineList } from "../../edge-contract/admin-api.js";
import { EtcdMembers, parseMemberId, type EtcdStateJson, type EtcdStore } from "../etcd/members.js";
import {
  buildKubeadmObjects,
  buildNamespace,
  buildNode,
  buildNodeLease,
  buildStaticPod,
  CONTROL_PLANE_COMPONENTS,
  ensureObject,
  providerID,
  staticPodName,
  SYSTEM_NAMESPACES,
  type ClusterApi,
  type ControlPlaneComponent,
} from "./objects.js";
import type { MachineStore } from "./store.js";
import {
  dueSteps,
  isProvisioned,
  machineConditions,
  machineSteps,
  nextDueAt,
  parseProvisioning,
  planMachine,
  type MachineRecord,
  type StepName,
} from "./timeline.js";

export type { ClusterApi } from "./objects.js";
export type { MachineJson, MachineList };

export interface ClusterMachinesOptions {
  api: ClusterApi;
  machines: MachineStore;
  etcd: EtcdStore;
  /** Epoch milliseconds. */
  now: () => number;
  /** U[0,1) for jitter; defaults to crypto.getRandomValues. */
  random?: () => number;
  /** Set (or clear, with null) the Durable Object's one alarm. */
  setAlarm: (atMs: number | null) => void;
}

/** U[0,1) with 53 random bits from the platform CSPRNG. */
export function cryptoRandom(): number {
  const w = new Uint32Array(2);
  crypto.getRandomValues(w);
  return (w[0] * 2 ** 21 + (w[1] >>> 11)) / 2 ** 53;
}

const VERSION_RE = /^v\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Pod names are "<component>-<node>" and must stay within 253 characters. */
const MAX_NAME = 253 - "kube-controller-manager-".length;
/** A provider ID as CAPI providers write them (`<scheme>://<id>`), printable ASCII, bounded. */
const PROVIDER_ID_RE = /^[a-z][a-z0-9+.-]*:\/\/[\x21-\x7e]{0,500}$/;

const iso = (ms: number) => new Date(ms).toISOString();

export class ClusterMachines {
  private readonly api: ClusterApi;
  private readonly store: MachineStore;
  private readonly members: EtcdMembers;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly setAlarm: (atMs: number | null) => void;

  constructor(opts: ClusterMachinesOptions) {
    this.api = opts.api;
    this.store = opts.machines;
    this.members = new EtcdMembers(opts.etcd);
    this.now = opts.now;
    this.random = opts.random ?? cryptoRandom;
    this.setAlarm = opts.setAlarm;
  }

  // The admin surface, called by the cluster DO's typed RPC methods (never by URL). Each call first
  // catches up on overdue steps, so a late alarm is never observable; failures throw ApiError.

  listMachines(): MachineList {
    this.catchUp();
    return { items: this.store.list().map((m) => this.toJson(m)), apiServers: this.apiServerCount() };
  }

  /** Machine JSON by name; 404 ApiError when there is none. */
  getMachine(name: string): MachineJson {
    this.catchUp();
    const rec = this.store.get(name);
    if (!rec) throw machineNotFound(name);
    return this.toJson(rec);
  }

  /** Creates a machine (or returns the existing one, idempotently); `created` tells which. */
  putMachine(name: string, body: Record<string, unknown>): { created: boolean; machine: MachineJson } {
    this.catchUp();
    return this.put(name, body);
  }

  /** Deletes a machine and everything its steps created; 404 ApiError when there is none. */
  removeMachine(name: string): { apiServers: number } {
    this.catchUp();
    if (!this.deleteMachine(name)) throw machineNotFound(name);
    return { apiServers: this.apiServerCount() };
  }

  etcdState(): EtcdStateJson {
    this.catchUp();
    return this.members.state(this.api.resourceVersion);
  }

  /** `{"targetId": "<decimal>"}`: etcd's MoveLeader. */
  moveEtcdLeader(body: Record<string, unknown>): EtcdStateJson {
    this.catchUp();
    this.members.moveLeader(parseMemberId(body.targetId, "targetId"));
    return this.members.state(this.api.resourceVersion);
  }

  /** `{"id": "<decimal>"}`: etcd's MemberRemove. */
  removeEtcdMember(body: Record<string, unknown>): EtcdStateJson {
    this.catchUp();
    this.members.removeMember(parseMemberId(body.id, "id"));
    return this.members.state(this.api.resourceVersion);
  }

  /** Replaces the injected etcd faults (`{"alarms"?, "noLeader"?, "unresponsive"?}`). */
  setEtcdFaults(body: Record<string, unknown>): EtcdStateJson {
    this.catchUp();
    this.members.setFaults(body);
    return this.members.state(this.api.resourceVersion);
  }

  /** The DO alarm fired: run every due step, then re-arm for the next one (or clear). */
  onAlarm(): void {
    this.advanceDue();
    this.setAlarm(this.store.nextDueAt());
  }

  /** The cluster is being deleted: forget machines and etcd, clear the alarm. */
  deleteAll(): void {
    this.store.clear();
    this.members.clear();
    this.setAlarm(null);
  }

  /** Number of machines whose kube-apiserver pod exists (the VIP answers while > 0). */
  apiServerCount(): number {
    return this.store
      .list()
      .filter((m) => m.controlPlane && this.api.getObject("v1", "Pod", "kube-system", staticPodName("kube-apiserver", m.name)) !== undefined)
      .length;
  }

  private put(name: string, body: Record<string, unknown>): { created: boolean; machine: MachineJson } {
    if (name.length > MAX_NAME || !DNS1123_SUBDOMAIN.test(name)) {
      throw new ApiError(
        422,
        "Invalid",
        `machine "${name}" is invalid: metadata.name: Invalid value: "${name}": must be a lowercase RFC 1123 subdomain of at most ${MAX_NAME} characters`,
      );
    }
    const bad = (msg: string) => new ApiError(400, "BadRequest", msg);
    const controlPlane = body.controlPlane ?? false;
    if (typeof controlPlane !== "boolean") throw bad("controlPlane: must be a boolean");
    if (typeof body.version !== "string" || !VERSION_RE.test(body.version)) throw bad('version: required, a Kubernetes version like "v1.31.0"');
    const version = body.version;
    for (const f of ["failureDomain", "clusterName", "controlPlaneEndpoint"] as const) {
      if (body[f] !== undefined && body[f] !== null && typeof body[f] !== "string") throw bad(`${f}: must be a string`);
    }
    const wantedProviderID = body.providerID ?? undefined;
    if (wantedProviderID !== undefined && (typeof wantedProviderID !== "string" || !PROVIDER_ID_RE.test(wantedProviderID))) {
      throw bad('providerID: must be "<scheme>://<id>" in printable ASCII, at most 500 characters after the scheme');
    }
    const bootstrapped = body.bootstrapped ?? false;
    if (typeof bootstrapped !== "boolean") throw bad("bootstrapped: must be a boolean");
    let provisioning: ReturnType<typeof parseProvisioning>;
    try {
      provisioning = parseProvisioning(body.provisioning);
    } catch (e) {
      throw bad((e as Error).message);
    }

    const now = this.now();
    let rec = this.store.get(name);
    const created = !rec;
    if (rec) {
      // Machines are immutable in CAPI: the same name with another role or version is a mistake.
      if (rec.controlPlane !== controlPlane || rec.version !== version || (wantedProviderID !== undefined && wantedProviderID !== (rec.providerID ?? providerID(name)))) {
        throw new ApiError(
          409,
          "Conflict",
          `Operation cannot be fulfilled on machine "${name}": it exists with controlPlane=${rec.controlPlane}, version=${rec.version}, providerID=${rec.providerID ?? providerID(name)}; delete it first`,
        );
      }
    } else {
      rec = planMachine(
        {
          name,
          controlPlane,
          version,
          failureDomain: (body.failureDomain as string | undefined) ?? undefined,
          providerID: wantedProviderID,
          clusterName: (body.clusterName as string | undefined) ?? undefined,
          controlPlaneEndpoint: (body.controlPlaneEndpoint as string | undefined) ?? undefined,
          provisioning: provisioning.spec,
          parsed: provisioning.parsed,
        },
        now,
        this.random,
      );
      this.store.put(rec);
    }
    // bootstrapped: provisioned before (e.g. the management cluster was restored): no waits.
    rec = this.advance(rec, now, bootstrapped);
    this.setAlarm(this.store.nextDueAt());
    return { created, machine: this.toJson(rec) };
  }

  private deleteMachine(name: string): boolean {
    const rec = this.store.get(name);
    if (!rec) return false;
    this.api.deleteObject("v1", "Node", "", name);
    this.api.deleteObject("coordination.k8s.io/v1", "Lease", "kube-node-lease", name);
    for (const c of CONTROL_PLANE_COMPONENTS) this.api.deleteObject("v1", "Pod", "kube-system", staticPodName(c, name));
    this.members.dropMembersOf(name);
    this.store.delete(name);
    this.setAlarm(this.store.nextDueAt());
    return true;
  }

  /** Runs overdue steps (if any) and re-arms the alarm when something changed. */
  private catchUp(): void {
    const next = this.store.nextDueAt();
    if (next === null || next > this.now()) return;
    this.advanceDue();
    this.setAlarm(this.store.nextDueAt());
  }

  private advanceDue(): void {
    const now = this.now();
    for (const rec of this.store.listDue(now)) this.advance(rec, now, false);
  }

  /** Runs the machine's due steps (all pending ones when `all`), storing progress after each. */
  private advance(rec: MachineRecord, now: number, all: boolean): MachineRecord {
    const steps = all ? machineSteps(rec).filter((s) => rec.steps[s]!.doneAt === null) : dueSteps(rec, now);
    for (const step of steps) {
      this.runStep(rec, step, now);
      rec.steps[step]!.doneAt = now;
      this.store.put(rec);
    }
    return rec;
  }

  private runStep(rec: MachineRecord, step: StepName, nowMs: number): void {
    const now = iso(nowMs);
    switch (step) {
      case "vm":
        // The VM itself is the providerID the controller writes on the DevMachine; in the cluster,
        // the system namespaces exist from the first machine on.
        for (const ns of SYSTEM_NAMESPACES) ensureObject(this.api, buildNamespace(ns));
        return;
      case "node":
        ensureObject(this.api, buildNode({ name: rec.name, controlPlane: rec.controlPlane, version: rec.version, providerID: rec.providerID, now }));
        ensureObject(this.api, buildNodeLease({ node: rec.name, nodeUid: this.api.getObject("v1", "Node", "", rec.name)?.metadata?.uid, now }));
        return;
      case "etcd":
        this.ensurePod("etcd", rec, now);
        this.members.addMember(rec.name);
        return;
      case "apiServer":
        this.ensurePod("kube-apiserver", rec, now);
        this.ensurePod("kube-scheduler", rec, now);
        this.ensurePod("kube-controller-manager", rec, now);
        // What `kubeadm init` leaves behind. Only created when missing: KCP updates these later.
        for (const obj of buildKubeadmObjects({ version: rec.version, clusterName: rec.clusterName, controlPlaneEndpoint: rec.controlPlaneEndpoint })) {
          ensureObject(this.api, obj);
        }
        return;
    }
  }

  private ensurePod(component: ControlPlaneComponent, rec: MachineRecord, now: string): void {
    const nodeUid = this.api.getObject("v1", "Node", "", rec.name)?.metadata?.uid;
    ensureObject(this.api, buildStaticPod({ component, node: rec.name, version: rec.version, now, nodeUid }));
  }

  private toJson(rec: MachineRecord): MachineJson {
    const steps: MachineJson["steps"] = {};
    for (const s of machineSteps(rec)) {
      const st = rec.steps[s]!;
      steps[s] = { dueAt: iso(st.dueAt), done: st.doneAt !== null, doneAt: st.doneAt === null ? null : iso(st.doneAt), delayMs: st.delayMs };
    }
    const next = nextDueAt(rec);
    const json: MachineJson = {
      name: rec.name,
      controlPlane: rec.controlPlane,
      version: rec.version,
      providerID: rec.providerID ?? providerID(rec.name),
      createdAt: iso(rec.createdAt),
      steps,
      conditions: machineConditions(rec),
      ready: isProvisioned(rec),
      nextTransitionAt: next === null ? null : iso(next),
    };
    if (rec.failureDomain !== undefined) json.failureDomain = rec.failureDomain;
    return json;
  }
}

function machineNotFound(name: string): ApiError {
  return new ApiError(404, "NotFound", `machine "${name}" not found`, { name, kind: "machines" });
}
