// Faults injected into one cluster's Kubernetes API, the "errors" and "configurable apiserver latency"
// CAPI's scale tests ask of a fake apiserver: per-verb/resource latency, an error rate with a chosen
// code (429 with Retry-After, 500, 503, 504), and watches ended after N seconds (an informer re-lists or
// resumes, as after a real apiserver's timeout). Draws come from a seeded generator when a seed is set,
// so a test can predict exactly which requests fail.
import type { ApiFaultsJson } from "../../edge-contract/admin-api.js";
import { fieldInvalid, fieldRequired, type FieldError } from "./validation.js";
import { ApiError } from "./types.js";
import { isObject } from "./json.js";

export type { ApiFaultsJson };

const VERBS = new Set(["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "evict"]);
const CODES: Record<number, { reason: string; message: string }> = {
  429: { reason: "TooManyRequests", message: "the server has received too many requests and has asked us to try again later (injected fault)" },
  500: { reason: "InternalError", message: "an error on the server has prevented the request from succeeding (injected fault)" },
  503: { reason: "ServiceUnavailable", message: "the server is currently unable to handle the request (injected fault)" },
  504: { reason: "Timeout", message: "the server was unable to return a response in the time allotted (injected fault)" },
};
const MAX_MS = 600_000;
const RULE_FIELDS = { latency: ["verbs", "resources", "ms", "jitterMs"], errors: ["verbs", "resources", "rate", "code", "retryAfterSeconds"] };

const num = (v: unknown, min: number, max: number) => typeof v === "number" && Number.isFinite(v) && v >= min && v <= max;

function stringList(v: unknown, path: string, errs: FieldError[], allowed?: Set<string>): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((s) => typeof s !== "string" || !s)) {
    errs.push(fieldInvalid(path, v, "must be a list of names"));
    return undefined;
  }
  for (const [i, s] of (v as string[]).entries()) if (allowed && !allowed.has(s)) errs.push(fieldInvalid(`${path}[${i}]`, s, `must be one of ${[...allowed].join(", ")}`));
  return v as string[];
}

/** Checks a PUT .../faults body; a 422 Invalid with every bad field, as kube answers an invalid object. */
export function parseApiFaults(body: unknown): ApiFaultsJson {
  const errs: FieldError[] = [];
  if (!isObject(body)) throw new ApiError(400, "BadRequest", "faults must be a JSON object");
  const known = new Set(["seed", "latency", "errors", "dropWatchesAfterSeconds"]);
  for (const k of Object.keys(body)) if (!known.has(k)) errs.push(fieldInvalid(k, body[k], "unknown field"));
  const out: ApiFaultsJson = {};
  if (body.seed !== undefined) {
    if (!Number.isInteger(body.seed)) errs.push(fieldInvalid("seed", body.seed, "must be an integer"));
    else out.seed = body.seed as number;
  }
  const rules = (key: "latency" | "errors"): Array<Record<string, unknown>> => {
    const v = body[key];
    if (v === undefined) return [];
    if (!Array.isArray(v)) {
      errs.push(fieldInvalid(key, v, "must be a list"));
      return [];
    }
    return v.map((r, i) => {
      const path = `${key}[${i}]`;
      if (!isObject(r)) {
        errs.push(fieldInvalid(path, r, "must be an object"));
        return {};
      }
      const unknown = Object.keys(r).filter((k) => !RULE_FIELDS[key].includes(k));
      for (const k of unknown) errs.push(fieldInvalid(`${path}.${k}`, r[k], "unknown field"));
      return { ...r, verbs: stringList(r.verbs, `${path}.verbs`, errs, VERBS), resources: stringList(r.resources, `${path}.resources`, errs) };
    });
  };
  const latency = rules("latency");
  latency.forEach((r, i) => {
    if (r.ms === undefined) errs.push(fieldRequired(`latency[${i}].ms`, ""));
    else if (!num(r.ms, 0, MAX_MS)) errs.push(fieldInvalid(`latency[${i}].ms`, r.ms, `must be a number of milliseconds in [0, ${MAX_MS}]`));
    if (r.jitterMs !== undefined && !num(r.jitterMs, 0, MAX_MS)) errs.push(fieldInvalid(`latency[${i}].jitterMs`, r.jitterMs, `must be a number of milliseconds in [0, ${MAX_MS}]`));
  });
  const errors = rules("errors");
  errors.forEach((r, i) => {
    if (!num(r.rate, 0, 1)) errs.push(fieldInvalid(`errors[${i}].rate`, r.rate, "must be a probability in [0, 1]"));
    if (!CODES[r.code as number]) errs.push(fieldInvalid(`errors[${i}].code`, r.code, `must be one of ${Object.keys(CODES).join(", ")}`));
    if (r.retryAfterSeconds !== undefined && !(Number.isInteger(r.retryAfterSeconds) && num(r.retryAfterSeconds, 0, 3600))) {
      errs.push(fieldInvalid(`errors[${i}].retryAfterSeconds`, r.retryAfterSeconds, "must be an integer in [0, 3600]"));
    }
  });
  if (body.dropWatchesAfterSeconds !== undefined && !num(body.dropWatchesAfterSeconds, 0.1, 86_400)) {
    errs.push(fieldInvalid("dropWatchesAfterSeconds", body.dropWatchesAfterSeconds, "must be a number of seconds in [0.1, 86400]"));
  }
  if (errs.length) {
    throw new ApiError(422, "Invalid", `faults are invalid: ${errs.map((e) => `${e.field}: ${e.message}`).join("; ")}`, {
      group: "capim-edge.dev",
      kind: "faults",
      causes: errs.map((e) => ({ reason: e.type, message: e.message, field: e.field })),
    });
  }
  if (latency.length) out.latency = latency as ApiFaultsJson["latency"];
  if (errors.length) out.errors = errors as ApiFaultsJson["errors"];
  if (body.dropWatchesAfterSeconds !== undefined) out.dropWatchesAfterSeconds = body.dropWatchesAfterSeconds as number;
  // Drop the undefined list fields the parse added, so the stored JSON is what the client meant.
  return JSON.parse(JSON.stringify(out)) as ApiFaultsJson;
}

/** mulberry32: a small, well-known 32-bit generator; enough for reproducible fault draws. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const matches = (r: { verbs?: string[]; resources?: string[] }, verb: string, resource: string) =>
  (!r.verbs?.length || r.verbs.includes(verb)) && (!r.resources?.length || r.resources.includes(resource));

export interface FaultDecision {
  delayMs: number;
  error?: { code: number; reason: string; message: string; retryAfterSeconds?: number };
}

/** Decides, request by request, what the configured faults do to it. */
export class FaultInjector {
  private readonly random: () => number;

  constructor(readonly faults: ApiFaultsJson) {
    this.random = faults.seed !== undefined ? seeded(faults.seed) : Math.random;
  }

  decide(verb: string, resource: string): FaultDecision {
    let delayMs = 0;
    const latency = this.faults.latency?.find((r) => matches(r, verb, resource));
    if (latency) delayMs = latency.ms + (latency.jitterMs ? this.random() * latency.jitterMs : 0);
    const rule = this.faults.errors?.find((r) => matches(r, verb, resource));
    if (!rule || !(this.random() < rule.rate)) return { delayMs };
    const { reason, message } = CODES[rule.code];
    const retryAfterSeconds = rule.retryAfterSeconds ?? (rule.code === 429 ? 1 : undefined);
    return { delayMs, error: { code: rule.code, reason, message, retryAfterSeconds } };
  }

  /** How long a watch may stay open, when watches are dropped. */
  get watchLimitMs(): number | undefined {
    return this.faults.dropWatchesAfterSeconds !== undefined ? this.faults.dropWatchesAfterSeconds * 1000 : undefined;
  }
}
