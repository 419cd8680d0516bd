// The edge's hand-written Prometheus exposition: kube's series, cumulative buckets, escaped label values.
import { describe, expect, it } from "vitest";
import { RequestMetrics } from "../../durable-objects/apiserver/request-metrics.js";
import { kubeRequest } from "../../edge-contract/kube-request.js";
import { parseMetrics, total } from "../helpers/prometheus.js";

describe("request metrics exposition", () => {
  it("writes counters, cumulative histogram buckets and gauges that a Prometheus parser reads back", () => {
    const m = new RequestMetrics();
    const get = kubeRequest("GET", "/api/v1/namespaces/default/pods/p");
    m.record(get, 200, 0.01);
    m.record(get, 200, 0.3);
    m.record(kubeRequest("PATCH", "/apis/apps/v1/namespaces/d/deployments/x/status"), 200, 2);
    const done = m.begin(kubeRequest("POST", "/api/v1/namespaces/default/configmaps"));
    const text = m.render('ns/"odd"\\name', 3);
    const fams = parseMetrics(text);
    const cluster = 'ns/"odd"\\name';
    expect(total(fams, "apiserver_request_total", { cluster, verb: "GET", resource: "pods", code: "200" })).toBe(2);
    expect(total(fams, "apiserver_request_total", { cluster, verb: "PATCH", group: "apps", resource: "deployments", subresource: "status" })).toBe(1);
    expect(total(fams, "apiserver_current_inflight_requests", { cluster, request_kind: "mutating" })).toBe(1);
    expect(total(fams, "apiserver_longrunning_requests", { cluster })).toBe(3);
    done();
    expect(total(parseMetrics(m.render("c", 0)), "apiserver_current_inflight_requests", {})).toBe(0);
    // Cumulative buckets: 0.01 s is under 0.025, 0.3 s under 0.4, both under +Inf.
    const line = (le: string) => text.split("\n").find((l) => l.startsWith("apiserver_request_duration_seconds_bucket") && l.includes('verb="GET"') && l.includes(`le="${le}"`));
    expect(line("0.005")).toMatch(/ 0$/);
    expect(line("0.025")).toMatch(/ 1$/);
    expect(line("0.4")).toMatch(/ 2$/);
    expect(line("+Inf")).toMatch(/ 2$/);
    expect(text).toContain('apiserver_request_duration_seconds_count{cluster="ns/\\"odd\\"\\\\name",verb="GET",group="",resource="pods",subresource=""} 2');
  });
});
