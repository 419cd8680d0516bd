// kube-apiserver's request metrics for one cluster, kept by its API server and served by the edge in
// Prometheus text (GET /admin/clusters/<ns>/<name>/metrics). Labels come from edge-contract's
// kubeRequest, as on the VIP, so both endpoints name a request alike. The exposition is written here
// by hand because prom-client needs Node (this code also runs in workerd); the text format is small
// and fixed (https://prometheus.io/docs/instrumenting/exposition_formats/).
// Durations: workerd advances its clocks only across I/O, so on the edge a duration is the time spent
// waiting (injected latency included), not CPU time; in Node it is wall time.
import { metricVerb, REQUEST_DURATION_BUCKETS, type KubeRequest } from "../../edge-contract/kube-request.js";

interface Histogram {
  buckets: number[];
  sum: number;
  count: number;
}

const escape = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
const labelText = (labels: Array<[string, string]>) => `{${labels.map(([k, v]) => `${k}="${escape(v)}"`).join(",")}}`;

export class RequestMetrics {
  private readonly totals = new Map<string, number>();
  private readonly durations = new Map<string, Histogram>();
  private readonly inflight = { readOnly: 0, mutating: 0 };

  /** Marks a request (not a watch) in flight; call the returned function when it is answered. */
  begin(r: KubeRequest): () => void {
    const kind = r.verb === "get" || r.verb === "list" ? "readOnly" : "mutating";
    this.inflight[kind]++;
    return () => void this.inflight[kind]--;
  }

  record(r: KubeRequest, code: number, seconds: number): void {
    const base = [metricVerb(r.verb), r.group, r.resource, r.subresource];
    const totalKey = JSON.stringify([...base, String(code)]);
    this.totals.set(totalKey, (this.totals.get(totalKey) ?? 0) + 1);
    if (r.verb === "watch") return; // long-running: counted, not timed (as kube does)
    const key = JSON.stringify(base);
    let h = this.durations.get(key);
    if (!h) this.durations.set(key, (h = { buckets: REQUEST_DURATION_BUCKETS.map(() => 0), sum: 0, count: 0 }));
    REQUEST_DURATION_BUCKETS.forEach((le, i) => {
      if (seconds <= le) h!.buckets[i]++;
    });
    h.sum += seconds;
    h.count++;
  }

  /** The Prometheus text of this cluster's series; `cluster` is `<namespace>/<name>`. */
  render(cluster: string, openWatches: number): string {
    const c: [string, string] = ["cluster", cluster];
    const names = (key: string) => {
      const [verb, group, resource, subresource, code] = JSON.parse(key) as string[];
      const l: Array<[string, string]> = [c, ["verb", verb], ["group", group], ["resource", resource], ["subresource", subresource]];
      if (code !== undefined) l.push(["code", code]);
      return l;
    };
    const out: string[] = [
      "# HELP apiserver_request_total Requests served by this cluster's API server, by verb, group, resource, subresource and HTTP code.",
      "# TYPE apiserver_request_total counter",
    ];
    for (const [key, n] of this.totals) out.push(`apiserver_request_total${labelText(names(key))} ${n}`);
    out.push(
      "# HELP apiserver_request_duration_seconds Response latency of this cluster's requests (watches excluded).",
      "# TYPE apiserver_request_duration_seconds histogram",
    );
    for (const [key, h] of this.durations) {
      const l = names(key);
      REQUEST_DURATION_BUCKETS.forEach((le, i) => out.push(`apiserver_request_duration_seconds_bucket${labelText([...l, ["le", String(le)]])} ${h.buckets[i]}`));
      out.push(`apiserver_request_duration_seconds_bucket${labelText([...l, ["le", "+Inf"]])} ${h.count}`);
      out.push(`apiserver_request_duration_seconds_sum${labelText(l)} ${h.sum}`);
      out.push(`apiserver_request_duration_seconds_count${labelText(l)} ${h.count}`);
    }
    out.push(
      "# HELP apiserver_current_inflight_requests Requests (not watches) being served, by request_kind.",
      "# TYPE apiserver_current_inflight_requests gauge",
      `apiserver_current_inflight_requests${labelText([c, ["request_kind", "readOnly"]])} ${this.inflight.readOnly}`,
      `apiserver_current_inflight_requests${labelText([c, ["request_kind", "mutating"]])} ${this.inflight.mutating}`,
      "# HELP apiserver_longrunning_requests Open watches.",
      "# TYPE apiserver_longrunning_requests gauge",
      `apiserver_longrunning_requests${labelText([c, ["verb", "WATCH"]])} ${openWatches}`,
    );
    return out.join("\n") + "\n";
  }
}
