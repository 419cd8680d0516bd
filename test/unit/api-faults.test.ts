// The fault injector's choices, apart from timing: which rule matches, seeded draws, and what a
// faulted request answers through the API server.
import { describe, expect, it } from "vitest";
import { FaultInjector, parseApiFaults } from "../../durable-objects/apiserver/api-faults.js";
import { ApiError } from "../../durable-objects/apiserver/types.js";
import { call, newServer } from "../helpers/node-host.js";

describe("API faults", () => {
  it("matches rules by verb and resource, first rule wins, empty lists match all", () => {
    const f = new FaultInjector({ seed: 1, latency: [{ verbs: ["get"], resources: ["pods"], ms: 7 }, { ms: 1 }], errors: [{ resources: ["nodes"], rate: 1, code: 503 }] });
    expect(f.decide("get", "pods")).toEqual({ delayMs: 7 });
    expect(f.decide("list", "pods")).toEqual({ delayMs: 1 });
    expect(f.decide("get", "nodes").error).toMatchObject({ code: 503, reason: "ServiceUnavailable" });
    expect(new FaultInjector({ errors: [{ rate: 1, code: 429 }] }).decide("get", "x").error?.retryAfterSeconds).toBe(1);
  });

  it("repeats the same draws for the same seed", () => {
    const draws = (seed: number) => {
      const f = new FaultInjector({ seed, errors: [{ rate: 0.5, code: 500 }] });
      return Array.from({ length: 64 }, () => (f.decide("get", "pods").error ? 1 : 0)).join("");
    };
    expect(draws(3)).toBe(draws(3));
    expect(draws(3)).not.toBe(draws(4));
  });

  it("refuses unknown fields, verbs and codes with the field names", () => {
    const fields = (body: unknown) => {
      try {
        parseApiFaults(body);
        return [];
      } catch (e) {
        return ((e as ApiError).details?.causes as Array<{ field: string }>).map((c) => c.field);
      }
    };
    expect(fields({ latency: [{ ms: 1, verbs: ["get"] }], errors: [{ rate: 0.1, code: 504 }], dropWatchesAfterSeconds: 2, seed: 9 })).toEqual([]);
    expect(fields({ latency: [{ verbs: ["fly"] }], typo: 1 })).toEqual(["typo", "latency[0].verbs[0]", "latency[0].ms"]);
    expect(fields({ errors: [{ rate: -1, code: 200, extra: true }] })).toEqual(["errors[0].extra", "errors[0].rate", "errors[0].code"]);
    expect(() => parseApiFaults([])).toThrow(ApiError);
  });

  it("answers a faulted request with the Status and Retry-After, and ends watches early", async () => {
    const { api } = newServer();
    api.setFaults({ errors: [{ verbs: ["list"], rate: 1, code: 429, retryAfterSeconds: 3 }], dropWatchesAfterSeconds: 0.2 });
    const r = await call(api, "GET", "/api/v1/namespaces/default/configmaps");
    expect(r.status).toBe(429);
    expect(r.body).toMatchObject({ kind: "Status", reason: "TooManyRequests", details: { retryAfterSeconds: 3 } });
    const w = await api.handle(new Request("http://x/api/v1/namespaces/default/configmaps?watch=true"));
    expect(w.status).toBe(200);
    await w.text(); // ends by itself after 0.2 s
    api.setFaults(undefined);
    expect((await call(api, "GET", "/api/v1/namespaces/default/configmaps")).status).toBe(200);
  });
});
