// Per-shard endpoint hosts in a management cluster. Replicas in Pods cannot bind an address of their
// own per shard, so a shard's host is the DNS name of a headless Service (`capim-edge-shard-<i>`,
// clusterIP None, no ports) that selects the Pod labelled `capim-edge.x-k8s.io/shard-<i>: serving`,
// and whichever replica holds the shard's Lease puts that label on its own Pod (and takes it off the
// moment it no longer holds it). When a replica dies, the survivor that takes its Lease labels itself
// and the name resolves to it: controlPlaneEndpoint.host and .port never change. The ports are the
// shard's own slice of the range (shard-ports.ts), so they are free on whichever Pod takes it.
import { errorMessage, isAlreadyExists, POD, SERVICE, type Kube, type KubeObject } from "../kube.js";
import type { Logger } from "../log.js";

export const shardServiceName = (shard: number) => `capim-edge-shard-${shard}`;
export const shardPodLabel = (shard: number) => `capim-edge.x-k8s.io/shard-${shard}`;
/** The label's value on the holder's Pod. */
export const SERVING = "serving";
/** A shard's endpoint host: the Service's name as Pods in the cluster resolve it (search path `<ns>.svc`). */
export const shardServiceHost = (shard: number, namespace: string) => `${shardServiceName(shard)}.${namespace}.svc`;

/** clusterctl deletes a provider's objects by this label, so Services made at run time go with it too. */
const PROVIDER_LABEL = { "cluster.x-k8s.io/provider": "infrastructure-capim-edge" };

export interface ShardEndpointsOptions {
  kube: Kube;
  /** The replicas' namespace: the Services and this replica's Pod live there. */
  namespace: string;
  /** This replica's Pod (its Lease identity). */
  pod: string;
  shards: number;
  log: Logger;
}

export class ShardEndpoints {
  /** The label writes, one at a time and each with the newest held set, so an older one never lands last. */
  private writing: Promise<void> = Promise.resolve();
  private latest: ReadonlySet<number> = new Set();
  /** The held set the Pod's labels last said (sorted, joined); a change that repeats it writes nothing. */
  private written?: string;

  constructor(private readonly o: ShardEndpointsOptions) {}

  /** Creates each shard's headless Service unless it exists (every replica does; the first one wins). */
  async ensureServices(): Promise<void> {
    const { kube, namespace, shards } = this.o;
    for (let s = 0; s < shards; s++) {
      if (await kube.get(SERVICE, namespace, shardServiceName(s))) continue;
      const service: KubeObject = {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: shardServiceName(s), namespace, labels: { ...PROVIDER_LABEL } },
        // No ports: a headless Service needs none, and a shard's VIP ports are too many to list.
        spec: { clusterIP: "None", selector: { [shardPodLabel(s)]: SERVING } },
      };
      try {
        await kube.create(SERVICE, namespace, service);
        this.o.log.info({ service: shardServiceName(s) }, "created shard endpoint Service");
      } catch (e) {
        if (!isAlreadyExists(e)) throw e;
      }
    }
  }

  /**
   * Labels this replica's Pod for exactly the shards it holds (every shard's label is written, so a
   * label left by an earlier run of this container is taken off too; a set the Pod already says is not
   * written again). Failures are logged and retried with the next change or 2 s later, whichever comes first.
   */
  label(held: ReadonlySet<number>): Promise<void> {
    this.latest = new Set(held);
    this.writing = this.writing.then(() => this.write());
    return this.writing;
  }

  private retry?: NodeJS.Timeout;

  private async write(): Promise<void> {
    const held = this.latest;
    const key = [...held].sort((a, b) => a - b).join(",");
    if (key === this.written) return;
    const labels: Record<string, string | null> = {};
    for (let s = 0; s < this.o.shards; s++) labels[shardPodLabel(s)] = held.has(s) ? SERVING : null;
    clearTimeout(this.retry);
    try {
      await this.o.kube.patch(POD, this.o.namespace, this.o.pod, { metadata: { labels } });
      this.written = key;
    } catch (e) {
      this.o.log.warn({ pod: this.o.pod, err: errorMessage(e) }, "could not label this replica's Pod for its shards; retrying");
      this.retry = setTimeout(() => void this.label(this.latest), 2000);
      this.retry.unref();
    }
  }

  stop(): void {
    clearTimeout(this.retry);
  }
}
