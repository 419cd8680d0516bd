// HTTP handling of the fake etcd's admin API inside the cluster's Durable Object:
//   GET  /_admin/etcd                  -> state
//   POST /_admin/etcd/move-leader      {"targetId": "<decimal>"}
//   POST /_admin/etcd/remove-member    {"id": "<decimal>"}
//   GET  /_admin/etcd/faults, PUT /_admin/etcd/faults {"alarms"?, "noLeader"?, "unresponsive"?}
// Errors are Kubernetes Status objects; etcd's own messages are kept verbatim for the gRPC bridge
// (404 -> NotFound, 412 -> FailedPrecondition, 503 -> Unavailable).
import { readBodyText } from "../apiserver/body.js";
import { errorResponse, jsonResponse } from "../apiserver/status.js";
import { ApiError } from "../apiserver/types.js";
import { parseMemberId, type EtcdMembers } from "./members.js";

/** Admin bodies are tiny; anything larger is refused. */
const MAX_ADMIN_BODY = 64 * 1024;

/** Reads a JSON object body; 400 when empty, malformed or not an object, 413 when too large. */
export async function readJsonObject(request: Request): Promise<Record<string, unknown>> {
  const text = await readBodyText(request, MAX_ADMIN_BODY);
  if (text.trim() === "") throw new ApiError(400, "BadRequest", "the request body is empty");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ApiError(400, "BadRequest", `the request body is not valid JSON: ${(e as Error).message.slice(0, 200)}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new ApiError(400, "BadRequest", "the request body must be a JSON object");
  }
  return value as Record<string, unknown>;
}

export const methodNotAllowed = () =>
  new ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
export const notFoundPath = () => new ApiError(404, "NotFound", "the server could not find the requested resource");

/** Runs a handler, turning ApiErrors into Status responses (anything else is an honest 500 Status). */
export async function withStatus(fn: () => Promise<Response> | Response): Promise<Response> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ApiError) return errorResponse(e);
    return errorResponse(new ApiError(500, "InternalError", `Internal error occurred: ${(e as Error)?.message ?? String(e)}`));
  }
}

/**
 * Handles /_admin/etcd... . `revision` reads the cluster's resourceVersion (etcd's revision).
 * Returns undefined for other paths.
 */
export async function handleEtcdAdmin(
  request: Request,
  url: URL,
  members: EtcdMembers,
  revision: () => number,
): Promise<Response | undefined> {
  const path = url.pathname.replace(/\/+$/, "");
  if (path !== "/_admin/etcd" && !path.startsWith("/_admin/etcd/")) return undefined;
  const sub = path.slice("/_admin/etcd".length);
  const ok = () => jsonResponse(200, members.state(revision()));
  return withStatus(async () => {
    switch (sub) {
      case "":
        if (request.method !== "GET") throw methodNotAllowed();
        return ok();
      case "/move-leader": {
        if (request.method !== "POST") throw methodNotAllowed();
        const body = await readJsonObject(request);
        members.moveLeader(parseMemberId(body.targetId, "targetId"));
        return ok();
      }
      case "/remove-member": {
        if (request.method !== "POST") throw methodNotAllowed();
        const body = await readJsonObject(request);
        members.removeMember(parseMemberId(body.id, "id"));
        return ok();
      }
      case "/faults":
        if (request.method === "GET") return jsonResponse(200, members.state(revision()).faults);
        if (request.method !== "PUT") throw methodNotAllowed();
        members.setFaults(await readJsonObject(request));
        return ok();
      default:
        throw notFoundPath();
    }
  });
}
