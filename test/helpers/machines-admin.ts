// Test glue: calls ClusterMachines' typed admin methods by the admin API's path shapes (as
// worker/admin.ts routes `/admin/clusters/:ns/:name/{machines,etcd}...`), so the machine and etcd
// tests read like the API they exercise. An ApiError becomes its Status with the error's code.
import { statusBody } from "../../durable-objects/apiserver/status.js";
import { ApiError } from "../../durable-objects/apiserver/types.js";
import type { ClusterMachines } from "../../durable-objects/machines/controller.js";

export interface AdminResult {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** `path` is `/machines`, `/machines/<name>`, `/etcd`, `/etcd/faults`, `/etcd/move-leader` or `/etcd/remove-member`. */
export function adminCall(cm: ClusterMachines, method: string, path: string, body?: unknown): AdminResult {
  const obj = (body ?? {}) as Record<string, unknown>;
  try {
    const [, area, name] = path.split("/");
    const call = `${method} ${area}${name === undefined ? "" : name === "" ? "/" : area === "machines" ? "/:name" : "/" + name}`;
    switch (call) {
      case "GET machines":
        return { status: 200, body: cm.listMachines() };
      case "GET machines/:name":
        return { status: 200, body: cm.getMachine(name) };
      case "PUT machines/:name": {
        const { created, machine } = cm.putMachine(name, obj);
        return { status: created ? 201 : 200, body: machine };
      }
      case "DELETE machines/:name":
        return { status: 200, body: cm.removeMachine(name) };
      case "GET etcd":
        return { status: 200, body: cm.etcdState() };
      case "GET etcd/faults":
        return { status: 200, body: cm.etcdState().faults };
      case "PUT etcd/faults":
        return { status: 200, body: cm.setEtcdFaults(obj) };
      case "POST etcd/move-leader":
        return { status: 200, body: cm.moveEtcdLeader(obj) };
      case "POST etcd/remove-member":
        return { status: 200, body: cm.removeEtcdMember(obj) };
      default:
        throw new Error(`no admin call ${call}`);
    }
  } catch (e) {
    if (e instanceof ApiError) return { status: e.code, body: statusBody(e.code, e.reason, e.message, e.details) };
    throw e;
  }
}
