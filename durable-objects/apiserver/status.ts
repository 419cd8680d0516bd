// Kubernetes `Status` objects and the ApiError constructors for every failure the server reports.
// Messages follow kube-apiserver's wording because clients (and people) match on them.
import { ApiError, type KindInfo } from "./types.js";
import { jsonResponse, jsonTextResponse, statusBody, type StatusCause } from "../../edge-contract/status.js";

export { jsonResponse, jsonTextResponse, statusBody, type StatusCause };

/** `pods` for core, `deployments.apps` otherwise: kube-apiserver's qualified resource string. */
export function qualifiedResource(group: string, resource: string): string {
  return group ? `${resource}.${group}` : resource;
}

export function errorResponse(err: ApiError): Response {
  return jsonResponse(err.code, statusBody(err.code, err.reason, err.message, err.details));
}

/** A success Status (e.g. the body of a delete or an eviction). */
export function successStatus(code: number, details?: Record<string, unknown>) {
  return statusBody(code, "", "", details);
}

const resDetails = (group: string, resource: string, name: string) => ({ name, group, kind: resource });

export const errors = {
  badRequest: (message: string) => new ApiError(400, "BadRequest", message),
  notFound: (group: string, resource: string, name: string) =>
    new ApiError(404, "NotFound", `${qualifiedResource(group, resource)} "${name}" not found`, resDetails(group, resource, name)),
  noResource: () => new ApiError(404, "NotFound", "the server could not find the requested resource"),
  methodNotAllowed: () => new ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource"),
  notAcceptable: (accept: string) =>
    new ApiError(406, "NotAcceptable", `only the following media types are accepted: application/json, application/yaml (got ${accept})`),
  unsupportedMediaType: (contentType: string) =>
    new ApiError(415, "UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (got ${contentType})`),
  alreadyExists: (group: string, resource: string, name: string) =>
    new ApiError(409, "AlreadyExists", `${qualifiedResource(group, resource)} "${name}" already exists`, resDetails(group, resource, name)),
  conflict: (group: string, resource: string, name: string, why = "the object has been modified; please apply your changes to the latest version and try again") =>
    new ApiError(409, "Conflict", `Operation cannot be fulfilled on ${qualifiedResource(group, resource)} "${name}": ${why}`, resDetails(group, resource, name)),
  forbidden: (group: string, resource: string, name: string, why: string) =>
    new ApiError(403, "Forbidden", `${qualifiedResource(group, resource)} "${name}" is forbidden: ${why}`, resDetails(group, resource, name)),
  invalid: (kind: KindInfo, name: string, causes: StatusCause[]) => {
    const parts = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : `${c.message}`));
    const text = parts.length === 1 ? parts[0] : `[${parts.join(", ")}]`;
    return new ApiError(422, "Invalid", `${kind.kind}${kind.group ? "." + kind.group : ""} "${name}" is invalid: ${text}`, {
      name,
      group: kind.group,
      kind: kind.kind,
      causes,
    });
  },
  expired: (message: string) => new ApiError(410, "Expired", message),
  tooLarge: (limit: number) => new ApiError(413, "RequestEntityTooLarge", `Request entity too large: limit is ${limit}`),
  tooManyRequests: (message: string, causes?: StatusCause[]) =>
    new ApiError(429, "TooManyRequests", message, causes ? { causes } : undefined),
  internal: () => new ApiError(500, "InternalError", "Internal error occurred: the server hit an unexpected condition"),
};
