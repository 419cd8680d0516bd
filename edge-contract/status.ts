// Kubernetes `Status` bodies: the error (and delete-success) shape every Kubernetes client parses,
// built here and nowhere else, for the API server, the worker, the admin API and the VIP alike.

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: StatusCause[];
  uid?: string;
  retryAfterSeconds?: number;
}

/** A Kubernetes `Status` as it travels (JSON, or an admin RPC's answer). */
export interface StatusJson {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Success" | "Failure";
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** kube-apiserver's reason for each code, for the callers that only know the code. */
const REASONS: Record<number, string> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  405: "MethodNotAllowed",
  406: "NotAcceptable",
  409: "Conflict",
  410: "Expired",
  413: "RequestEntityTooLarge",
  415: "UnsupportedMediaType",
  422: "Invalid",
  429: "TooManyRequests",
  500: "InternalError",
  503: "ServiceUnavailable",
  504: "Timeout",
};

export function reasonFor(code: number): string {
  return REASONS[code] ?? "Unknown";
}

/**
 * A Status body; a code below 400 is a Success without message and reason (a delete's answer).
 * `details` takes any object (an ApiError carries kube's detail fields as a plain record).
 */
export function statusBody(code: number, reason: string, message: string, detailsIn?: StatusDetails | Record<string, unknown>): StatusJson {
  const details = detailsIn as StatusDetails | undefined;
  if (code < 400) {
    return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", ...(details ? { details } : {}), code };
  }
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, details: details ?? {}, code };
}

export function jsonResponse(code: number, body: unknown, headers?: Record<string, string>): Response {
  return jsonTextResponse(code, JSON.stringify(body), headers);
}

/** A response whose body is already JSON text. */
export function jsonTextResponse(code: number, text: string, headers?: Record<string, string>): Response {
  return new Response(text, { status: code, headers: { "content-type": "application/json", ...headers } });
}

export function statusResponse(code: number, reason: string, message: string, details?: StatusDetails): Response {
  return jsonResponse(code, statusBody(code, reason, message, details));
}

/** The API group the admin API's resources (clusters) are reported under. */
export const ADMIN_GROUP = "capim-edge.dev";

/** The 404 of a cluster that was never created (or was deleted, or expired). */
export function clusterNotFoundStatus(name: string): StatusJson {
  return statusBody(404, "NotFound", `clusters.${ADMIN_GROUP} "${name}" not found`, { name, group: ADMIN_GROUP, kind: "clusters" });
}
