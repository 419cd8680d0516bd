// Shard ownership through coordination.k8s.io/v1 Leases, one per shard (`capim-edge-shard-<i>`), as
// client-go's leader election holds one: the holder renews `renewTime` every few seconds with the
// Lease's resourceVersion as precondition, and a Lease not renewed for `leaseDurationSeconds` may be
// taken by another replica. Each replica takes its own shard at once; another shard it takes only when
// it has been up for a whole lease duration and that shard's Lease has expired or was released (its
// holder died, stopped, or never started), so replicas starting together each get their own.
import { errorMessage, isConflict, isNotFound, type GVR, type Kube, type KubeObject } from "../kube.js";
import type { Logger } from "../log.js";

export const LEASE: GVR = { group: "coordination.k8s.io", version: "v1", plural: "leases", kind: "Lease" };

export interface ShardLeaseOptions {
  kube: Kube;
  namespace: string;
  /** This replica's identity (holderIdentity), e.g. the Pod name. */
  identity: string;
  shards: number;
  /** The shard this replica takes first (its own). */
  preferred: number;
  leaseDurationSeconds?: number;
  renewEveryMs?: number;
  log: Logger;
  /** Called once per change, after the set of held shards changed. */
  onChange(held: ReadonlySet<number>, gained: number[], lost: number[]): void;
}

interface LeaseObject extends KubeObject {
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string; leaseTransitions?: number };
}

export const shardLeaseName = (shard: number) => `capim-edge-shard-${shard}`;

/** Microsecond-precision RFC 3339, as kube's MicroTime. */
const microTime = (ms: number) => new Date(ms).toISOString().replace(/Z$/, "000Z");

export class ShardLeases {
  private readonly held = new Set<number>();
  private readonly started = Date.now();
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly durationS: number;

  constructor(private readonly o: ShardLeaseOptions) {
    this.durationS = o.leaseDurationSeconds ?? 15;
  }

  owns(shard: number): boolean {
    return this.held.has(shard);
  }

  /** First round at once, then one every renewEveryMs. */
  async start(): Promise<void> {
    await this.round();
    const every = this.o.renewEveryMs ?? Math.max(1000, (this.durationS * 1000) / 5);
    const tick = () => {
      if (this.stopped) return;
      void this.round().finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, every);
      });
    };
    this.timer = setTimeout(tick, every);
  }

  /** Gives up every held shard (clears holderIdentity), so others take over without waiting. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await Promise.all(
      [...this.held].map(async (s) => {
        try {
          await this.o.kube.patch(LEASE, this.o.namespace, shardLeaseName(s), { spec: { holderIdentity: null, renewTime: null } });
        } catch {
          /* the lease expires anyway */
        }
      }),
    );
    this.held.clear();
  }

  private async round(): Promise<void> {
    const gained: number[] = [];
    const lost: number[] = [];
    for (let s = 0; s < this.o.shards; s++) {
      try {
        const had = this.held.has(s);
        const has = await this.tryHold(s);
        if (has && !had) gained.push(s);
        if (!has && had) lost.push(s);
        if (has) this.held.add(s);
        else this.held.delete(s);
      } catch (e) {
        // Could not renew in time: treat the shard as lost rather than risk two VIPs on one endpoint.
        if (this.held.has(s) && this.expiredSinceRenew(s)) {
          this.held.delete(s);
          lost.push(s);
        }
        this.o.log.warn({ shard: s, err: errorMessage(e) }, "shard lease round failed");
      }
    }
    if (gained.length || lost.length) {
      this.o.log.info({ held: [...this.held].sort(), gained, lost }, "controller shards changed");
      this.o.onChange(this.held, gained, lost);
    }
  }

  private readonly renewedAt = new Map<number, number>();

  private expiredSinceRenew(s: number): boolean {
    return Date.now() - (this.renewedAt.get(s) ?? 0) > this.durationS * 1000;
  }

  /** Renews, takes or leaves shard `s`; true when this replica holds it afterwards. */
  private async tryHold(s: number): Promise<boolean> {
    const { kube, namespace, identity } = this.o;
    const name = shardLeaseName(s);
    const now = Date.now();
    const lease = await kube.get<LeaseObject>(LEASE, namespace, name);
    const spec = lease?.spec ?? {};
    const holder = spec.holderIdentity ?? "";
    const renewed = spec.renewTime ? Date.parse(spec.renewTime) : 0;
    const expired = !holder || now - renewed > (spec.leaseDurationSeconds ?? this.durationS) * 1000;
    const mine = holder === identity;
    const mayTake = s === this.o.preferred || now - this.started > this.durationS * 1000;
    if (!mine && !(expired && mayTake)) return false;
    const next = {
      holderIdentity: identity,
      leaseDurationSeconds: this.durationS,
      renewTime: microTime(now),
      ...(mine ? {} : { acquireTime: microTime(now), leaseTransitions: (spec.leaseTransitions ?? 0) + (holder ? 1 : 0) }),
    };
    try {
      if (!lease) await kube.create(LEASE, namespace, { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name, namespace }, spec: next });
      else await kube.patch(LEASE, namespace, name, { metadata: { resourceVersion: lease.metadata.resourceVersion }, spec: next });
    } catch (e) {
      if (isConflict(e)) return false; // another replica wrote it first: it holds the shard this round
      if (isNotFound(e)) return false;
      throw e;
    }
    this.renewedAt.set(s, now);
    if (!mine) this.o.log.info({ shard: s, from: holder || undefined }, "took shard lease");
    return true;
  }
}
