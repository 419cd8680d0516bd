import { describe, expect, it } from "vitest";
import { fieldValue, matchesFieldSelector, parseFieldSelector } from "../../durable-objects/apiserver/field-selectors.js";
import { formatLabelSelector, labelSelectorFromMeta, matchesLabelSelector, parseLabelSelector } from "../../durable-objects/apiserver/label-selectors.js";
import { ApiError } from "../../durable-objects/apiserver/types.js";

function apiErr(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error("expected an ApiError");
}

describe("parseLabelSelector", () => {
  it("parses every operator form", () => {
    const s = parseLabelSelector(" a=b, c==d,e!=f , g in (x, y,x), h notin (z), i, !j, k>5, l<10 ");
    expect(s.requirements).toEqual([
      { key: "a", operator: "=", values: ["b"] },
      { key: "c", operator: "==", values: ["d"] },
      { key: "e", operator: "!=", values: ["f"] },
      { key: "g", operator: "in", values: ["x", "y"] },
      { key: "h", operator: "notin", values: ["z"] },
      { key: "i", operator: "exists", values: [] },
      { key: "j", operator: "!", values: [] },
      { key: "k", operator: "gt", values: ["5"] },
      { key: "l", operator: "lt", values: ["10"] },
    ]);
  });

  it("accepts the empty string, prefixed keys, empty values and keyword values", () => {
    expect(parseLabelSelector("").requirements).toEqual([]);
    expect(parseLabelSelector("example.com/app=web").requirements[0]).toEqual({ key: "example.com/app", operator: "=", values: ["web"] });
    expect(parseLabelSelector("a=").requirements[0]!.values).toEqual([""]);
    expect(parseLabelSelector("a in ()").requirements[0]!.values).toEqual([""]);
    expect(parseLabelSelector("a in (,b)").requirements[0]!.values).toEqual(["", "b"]);
    expect(parseLabelSelector("a in (in,notin)").requirements[0]!.values).toEqual(["in", "notin"]);
  });

  it("rejects invalid keys with kube's message", () => {
    const e = apiErr(() => parseLabelSelector("a/b/c=d"));
    expect(e.code).toBe(400);
    expect(e.reason).toBe("BadRequest");
    expect(e.message).toBe(
      `unable to parse requirement: <nil>: Invalid value: "a/b/c": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    );
  });

  it("rejects invalid values with kube's field path", () => {
    const e = apiErr(() => parseLabelSelector("app=-bad"));
    expect(e.code).toBe(400);
    expect(e.message).toBe(
      `unable to parse requirement: values[0][app]: Invalid value: "-bad": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue', or 'my_value', or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
    );
    expect(apiErr(() => parseLabelSelector("a=" + "x".repeat(64))).message).toContain("must be no more than 63 characters");
    expect(apiErr(() => parseLabelSelector("a>x")).message).toContain("for 'Gt', 'Lt' operators, the value must be an integer");
  });

  it("rejects syntax errors with kube's messages", () => {
    expect(apiErr(() => parseLabelSelector("a=b,")).message).toBe("found '', expected: identifier after ','");
    expect(apiErr(() => parseLabelSelector("a b")).message).toBe("unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt");
    expect(apiErr(() => parseLabelSelector("a in x")).message).toBe("unable to parse requirement: found 'x' expected: '('");
    expect(apiErr(() => parseLabelSelector("a in (x")).message).toBe("unable to parse requirement: found '', expected: ',' or ')'");
    expect(apiErr(() => parseLabelSelector("!a=b")).message).toBe("found '=', expected: ',' or 'end of string'");
    expect(apiErr(() => parseLabelSelector(",a")).message).toBe("found ',', expected: !, identifier, or 'end of string'");
    expect(apiErr(() => parseLabelSelector("a=b=c")).message).toBe("found '=', expected: ',' or 'end of string'");
  });

  it("formats canonically", () => {
    expect(formatLabelSelector(parseLabelSelector("z,!y,b in (2,1),a!=x"))).toBe("a!=x,b in (1,2),!y,z");
  });
});

describe("matchesLabelSelector", () => {
  const labels = { app: "web", tier: "front", replicas: "3" };
  const m = (sel: string, l: Record<string, string> | undefined = labels) => matchesLabelSelector(parseLabelSelector(sel), l);
  it("implements each operator", () => {
    expect(m("")).toBe(true);
    expect(m("", undefined)).toBe(true);
    expect(m("app=web")).toBe(true);
    expect(m("app=db")).toBe(false);
    expect(m("app!=db")).toBe(true);
    expect(m("missing!=x")).toBe(true); // absent labels satisfy != and notin
    expect(m("missing notin (x)")).toBe(true);
    expect(m("app notin (web)")).toBe(false);
    expect(m("tier in (back,front)")).toBe(true);
    expect(m("missing in (x)")).toBe(false);
    expect(m("app,tier")).toBe(true);
    expect(m("app,!tier")).toBe(false);
    expect(m("!missing")).toBe(true);
    expect(m("replicas>2,replicas<4")).toBe(true);
    expect(m("replicas>3")).toBe(false);
    expect(m("app>1")).toBe(false); // non-integer label value never matches gt/lt
    expect(m("app=web,tier=back")).toBe(false);
  });
});

describe("labelSelectorFromMeta", () => {
  it("combines matchLabels and matchExpressions", () => {
    const sel = labelSelectorFromMeta({
      matchLabels: { app: "web" },
      matchExpressions: [
        { key: "tier", operator: "In", values: ["front", "edge"] },
        { key: "canary", operator: "DoesNotExist" },
        { key: "zone", operator: "Exists" },
        { key: "env", operator: "NotIn", values: ["dev"] },
      ],
    });
    expect(matchesLabelSelector(sel, { app: "web", tier: "edge", zone: "a" })).toBe(true);
    expect(matchesLabelSelector(sel, { app: "web", tier: "edge", zone: "a", env: "dev" })).toBe(false);
    expect(matchesLabelSelector(sel, { app: "web", tier: "edge" })).toBe(false);
    expect(matchesLabelSelector(sel, { app: "web", tier: "edge", zone: "a", canary: "1" })).toBe(false);
    expect(matchesLabelSelector(labelSelectorFromMeta({}), { any: "thing" })).toBe(true);
  });
  it("rejects bad operators and empty In sets", () => {
    expect(apiErr(() => labelSelectorFromMeta({ matchExpressions: [{ key: "a", operator: "Gt", values: ["1"] }] })).message).toBe(
      `"Gt" is not a valid label selector operator`,
    );
    const e = apiErr(() => labelSelectorFromMeta({ matchExpressions: [{ key: "a", operator: "In", values: [] }] }));
    expect(e.code).toBe(400);
    expect(e.message).toBe(`values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty`);
  });
});

describe("parseFieldSelector", () => {
  it("parses =, == and != with escapes", () => {
    expect(parseFieldSelector(String.raw`metadata.name=a\,b\=c\\d,metadata.namespace!=kube-system`, "", "pods").requirements).toEqual([
      { field: "metadata.name", operator: "=", value: String.raw`a,b=c\d` },
      { field: "metadata.namespace", operator: "!=", value: "kube-system" },
    ]);
    expect(parseFieldSelector("spec.nodeName==n1,", "", "pods").requirements).toEqual([{ field: "spec.nodeName", operator: "=", value: "n1" }]);
    expect(parseFieldSelector("", "", "pods").requirements).toEqual([]);
  });

  it("rewrites the legacy spec.host field of pods", () => {
    expect(parseFieldSelector("spec.host=n1", "", "pods").requirements[0]!.field).toBe("spec.nodeName");
  });

  it("rejects unsupported fields with kube's message", () => {
    const e = apiErr(() => parseFieldSelector("spec.nodeName=x", "", "configmaps"));
    expect([e.code, e.reason, e.message]).toEqual([400, "BadRequest", "field label not supported: spec.nodeName"]);
    expect(apiErr(() => parseFieldSelector("status.phase=Running", "example.com", "widgets")).message).toBe("field label not supported: status.phase");
    expect(apiErr(() => parseFieldSelector("type=Opaque", "", "configmaps")).message).toBe("field label not supported: type");
  });

  it("rejects malformed terms and escapes", () => {
    expect(apiErr(() => parseFieldSelector("metadata.name", "", "pods")).message).toBe("invalid selector: 'metadata.name'; can't understand 'metadata.name'");
    expect(apiErr(() => parseFieldSelector(String.raw`metadata.name=a\x`, "", "pods")).message).toBe(
      String.raw`invalid field selector: invalid escape sequence: \x`,
    );
    expect(apiErr(() => parseFieldSelector("metadata.name=a=b", "", "pods")).message).toBe(
      "invalid field selector: unescaped character in value: =",
    );
  });

  it("accepts the per-resource fields", () => {
    for (const [g, r, f] of [
      ["", "nodes", "spec.unschedulable"],
      ["", "events", "involvedObject.uid"],
      ["", "events", "reportingComponent"],
      ["", "secrets", "type"],
      ["", "namespaces", "status.phase"],
      ["apps", "replicasets", "status.replicas"],
      ["batch", "jobs", "status.successful"],
      ["", "pods", "status.nominatedNodeName"],
    ]) {
      expect(parseFieldSelector(`${f}=x`, g!, r!).requirements[0]!.field).toBe(f);
    }
  });
});

describe("fieldValue / matchesFieldSelector", () => {
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p1", namespace: "default" },
    spec: { nodeName: "n1" },
    status: { phase: "Running", podIP: "10.0.0.9", podIPs: [{ ip: "10.0.0.1" }, { ip: "fd00::1" }] },
  };
  it("reads values like kube's GetAttrs", () => {
    expect(fieldValue(pod, "spec.nodeName")).toBe("n1");
    expect(fieldValue(pod, "spec.hostNetwork")).toBe("false");
    expect(fieldValue({ spec: { hostNetwork: true } }, "spec.hostNetwork")).toBe("true");
    expect(fieldValue(pod, "status.podIP")).toBe("10.0.0.1");
    expect(fieldValue(pod, "spec.schedulerName")).toBe("");
    expect(fieldValue({ source: {}, reportingComponent: "kubelet" }, "source")).toBe("kubelet");
    expect(fieldValue({ source: { component: "sched" } }, "source")).toBe("sched");
    expect(fieldValue({ status: {} }, "status.successful")).toBe("0");
    expect(fieldValue({ status: { succeeded: 2 } }, "status.successful")).toBe("2");
  });
  it("matches = and != (missing fields are the empty string)", () => {
    const sel = (t: string) => parseFieldSelector(t, "", "pods");
    expect(matchesFieldSelector(sel("spec.nodeName=n1,status.phase!=Failed"), pod)).toBe(true);
    expect(matchesFieldSelector(sel("spec.nodeName=n2"), pod)).toBe(false);
    expect(matchesFieldSelector(sel("spec.schedulerName="), pod)).toBe(true);
    expect(matchesFieldSelector(sel("metadata.namespace!=default"), pod)).toBe(false);
    expect(matchesFieldSelector(sel(""), pod)).toBe(true);
    const node = { metadata: { name: "n1" }, spec: { unschedulable: true } };
    expect(matchesFieldSelector(parseFieldSelector("spec.unschedulable=true", "", "nodes"), node)).toBe(true);
    expect(matchesFieldSelector(parseFieldSelector("spec.unschedulable=false", "", "nodes"), { metadata: { name: "n2" } })).toBe(true);
  });
});
