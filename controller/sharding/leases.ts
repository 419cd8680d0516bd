// Shard ownership through coordination.k8s.io/v1 Leases, one per shard (`capim-edge-shard-<i>`), as
// client-go's leader election holds one: the holder renews `renewTime` every few seconds with the
// Lease's resourceVersion as precondition, and a Lease not renewed for `leaseDurationSeconds` may be
// taken by another replica. Each replica takes its own shard at once; another shard it takes only when
// it has been up for a whole lease duration and that shard's Lease has expired or was released (its
// holder died, stopped, or never started), so replicas starting together each get their own.
//
// Hand-back: a replica that finds its own shard held by another (it restarted after the other took
// over) asks for it with two annotations on the Lease, renewed every round; the holder releases a
// shard that is not its own when asked, and leaves a released shard to the asker while the request is
// fresh. So after a pod restart each replica serves its own shard again, and the load is spread as
// it was, instead of one replica keeping two shards until it dies too.
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

/** Who asks for the shard back (its own replica's identity), and when it last asked. */
export const WANTED_BY = "capim-edge.x-k8s.io/wanted-by";
export const WANTED_AT = "capim-edge.x-k8s.io/wanted-at";

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

  /** The shards held now (a live view). */
  get holding(): ReadonlySet<number> {
    return this.held;
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
          // Only if it is still ours: if it expired and another replica took it since, leave it be.
          const lease = await this.o.kube.get<LeaseObject>(LEASE, this.o.namespace, shardLeaseName(s));
          if (lease?.spec?.holderIdentity === this.o.identity) await this.release(s, lease.metadata.resourceVersion);
        } catch {
          /* the lease expires anyway */
        }
      }),
    );
    this.held.clear();
  }

  /** Clears the holder so that another replica may take the shard at once (only if still ours at `resourceVersion`). */
  private async release(s: number, resourceVersion?: string): Promise<void> {
    await this.o.kube.patch(LEASE, this.o.namespace, shardLeaseName(s), {
      ...(resourceVersion ? { metadata: { resourceVersion } } : {}),
      spec: { holderIdentity: null, renewTime: null },
    });
  }

  /** Asks the holder of this replica's own shard to hand it back (renewed every round until it is). */
  private async askBack(s: number): Promise<void> {
    await this.o.kube.patch(LEASE, this.o.namespace, shardLeaseName(s), {
      metadata: { annotations: { [WANTED_BY]: this.o.identity, [WANTED_AT]: microTime(Date.now()) } },
    });
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

  /** Renews, takes, leaves or hands back shard `s`; true when this replica holds it afterwards. */
  private async tryHold(s: number): Promise<boolean> {
    // A renewal that conflicts may have lost only to the owner's hand-back request: read it and decide again.
    for (let attempt = 1; ; attempt++) {
      const r = await this.tryHoldOnce(s);
      if (r !== "conflict-while-mine") return r;
      if (attempt === 2) return this.held.has(s) && !this.expiredSinceRenew(s);
    }
  }

  private async tryHoldOnce(s: number): Promise<boolean | "conflict-while-mine"> {
    const { kube, namespace, identity } = this.o;
    const name = shardLeaseName(s);
    const now = Date.now();
    const lease = await kube.get<LeaseObject>(LEASE, namespace, name);
    const spec = lease?.spec ?? {};
    const holder = spec.holderIdentity ?? "";
    const renewed = spec.renewTime ? Date.parse(spec.renewTime) : 0;
    const expired = !holder || now - renewed > (spec.leaseDurationSeconds ?? this.durationS) * 1000;
    const mine = holder === identity;
    const own = s === this.o.preferred;
    const mayTake = own || now - this.started > this.durationS * 1000;
    const wantedBy = lease?.metadata.annotations?.[WANTED_BY];
    const askedByOwner = !own && !!wantedBy && wantedBy !== identity && now - Date.parse(lease?.metadata.annotations?.[WANTED_AT] ?? "") < this.durationS * 1000;
    if (mine && askedByOwner) {
      try {
        await this.release(s, lease!.metadata.resourceVersion);
      } catch (e) {
        if (isConflict(e)) return "conflict-while-mine";
        throw e;
      }
      this.o.log.info({ shard: s, to: wantedBy }, "handing shard back to its own replica");
      return false;
    }
    if (!mine && own && !expired) {
      await this.askBack(s);
      return false;
    }
    if (!mine && !(expired && mayTake && !askedByOwner)) return false;
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
      if (isConflict(e)) return mine ? "conflict-while-mine" : false; // another replica wrote it first: it holds the shard this round
      if (isNotFound(e)) return false;
      throw e;
    }
    this.renewedAt.set(s, now);
    if (!mine) this.o.log.info({ shard: s, from: holder || undefined }, "took shard lease");
    return true;
  }
}
