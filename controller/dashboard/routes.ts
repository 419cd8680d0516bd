// The dashboard's HTTP routes, served next to /metrics (controller/metrics.ts):
//   GET /dashboard                                  the page
//   GET /dashboard/api/fleet                        the FleetSnapshot JSON
//   PUT|DELETE /dashboard/api/clusters/:ns/:name/faults   set (JSON body) or clear a cluster's API faults
// Changing faults needs the x-capim-dashboard header: a cross-site page cannot send it without a CORS
// preflight, which this server never answers, so only the dashboard itself (same origin) can.
import type { IncomingMessage, ServerResponse } from "node:http";
import { DASHBOARD_HTML } from "./page.js";
import type { FleetView } from "./snapshot.js";

const MAX_BODY = 64 * 1024;
const FAULTS_PATH = /^\/dashboard\/api\/clusters\/([^/]+)\/([^/]+)\/faults$/;

function json(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { "content-type": "application/json" }).end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) return resolve(undefined);
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", () => resolve(undefined));
  });
}

/** Serves a dashboard route; false when the path is not the dashboard's. */
export async function serveDashboard(req: IncomingMessage, res: ServerResponse, view: FleetView): Promise<boolean> {
  const path = (req.url ?? "/").split("?")[0];
  if (path === "/dashboard" || path === "/dashboard/") {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", "x-frame-options": "DENY" }).end(DASHBOARD_HTML);
    return true;
  }
  if (path === "/dashboard/api/fleet" && req.method === "GET") {
    json(res, 200, await view.snapshot());
    return true;
  }
  const m = FAULTS_PATH.exec(path);
  if (!m) return false;
  if (req.method !== "PUT" && req.method !== "DELETE") {
    json(res, 405, { message: "PUT or DELETE" });
    return true;
  }
  if (req.headers["x-capim-dashboard"] !== "1") {
    json(res, 403, { message: "changing faults needs the dashboard's x-capim-dashboard header" });
    return true;
  }
  let ns: string, name: string;
  try {
    [ns, name] = [decodeURIComponent(m[1]), decodeURIComponent(m[2])];
  } catch {
    json(res, 400, { message: "malformed cluster name" });
    return true;
  }
  let faults: Record<string, unknown> | undefined;
  if (req.method === "PUT") {
    const text = await readBody(req);
    try {
      faults = text === undefined ? undefined : (JSON.parse(text) as Record<string, unknown>);
    } catch {
      faults = undefined;
    }
    if (!faults || typeof faults !== "object" || Array.isArray(faults)) {
      json(res, 400, { message: `the body must be a JSON object of at most ${MAX_BODY} bytes` });
      return true;
    }
  }
  try {
    json(res, 200, await view.setFaults(ns, name, faults));
  } catch (e) {
    const code = (e as { code?: number }).code;
    json(res, typeof code === "number" && code >= 400 && code < 600 ? code : 502, { message: (e as Error).message });
  }
  return true;
}
