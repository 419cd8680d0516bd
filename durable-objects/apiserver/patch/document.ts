// A JSON patch request body applied by its media type (merge, strategic merge or JSON patch): one place
// for every handler that patches (objects, and subresources like scale). Server-side apply is not here:
// it needs the field manager and managed fields, which only the object handler has.
import { decodeBody } from "../body.js";
import { isObject } from "../json.js";
import { errors } from "../status.js";
import { applyJsonPatch } from "./json.js";
import { applyMergePatch } from "./merge.js";
import { applyStrategicMergePatch } from "./strategic.js";

/**
 * `text` applied to `base` as `contentType` says; 415 for any other media type. `mergeKeys` is only
 * asked for by a strategic merge patch.
 */
export function applyPatchBody(contentType: string, base: unknown, text: string, mergeKeys: () => Record<string, string>): unknown {
  switch (contentType) {
    case "application/merge-patch+json": {
      const p = decodeBody(text, "json");
      if (!isObject(p)) throw errors.badRequest("a merge patch must be a JSON object");
      return applyMergePatch(base, p);
    }
    case "application/strategic-merge-patch+json": {
      const p = decodeBody(text, "json");
      if (!isObject(p)) throw errors.badRequest("a strategic merge patch must be a JSON object");
      return applyStrategicMergePatch(base, p, mergeKeys());
    }
    case "application/json-patch+json":
      return applyJsonPatch(base, decodeBody(text, "json"));
    default:
      throw errors.unsupportedMediaType(contentType);
  }
}
