// Kubernetes `Status` responses for errors produced outside the API server (auth, routing, admin).
// Clients (kubectl, client-go, client-node) parse this shape to print errors, so every failure uses it.

const REASONS: Record<number, string> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  405: "MethodNotAllowed",
  409: "AlreadyExists",
  413: "RequestEntityTooLarge",
  415: "UnsupportedMediaType",
  422: "Invalid",
  500: "InternalError",
  503: "ServiceUnavailable",
};

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  [k: string]: unknown;
}

export function statusBody(code: number, message: string, reason = REASONS[code] ?? "Unknown", details?: StatusDetails) {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  };
}

export function statusResponse(code: number, message: string, reason?: string, details?: StatusDetails): Response {
  return new Response(JSON.stringify(statusBody(code, message, reason, details)), {
    status: code,
    headers: { "content-type": "application/json" },
  });
}

export const ADMIN_GROUP = "capim-edge.dev";

/** The 404 a cluster that was never created (or was deleted) answers with. */
export function clusterNotFound(name: string): Response {
  return statusResponse(404, `clusters.${ADMIN_GROUP} "${name}" not found`, "NotFound", {
    name,
    group: ADMIN_GROUP,
    kind: "clusters",
  });
}

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}
