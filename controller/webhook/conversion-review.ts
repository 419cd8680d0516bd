// The CRD conversion webhook's review: kube-apiserver POSTs an apiextensions.k8s.io/v1
// ConversionReview naming the objects and the version it wants; the answer carries the converted
// objects, or a Failure result that the API server turns into an error for its client. Pure logic.
import { convertDevObject, isDevConvertible, isObject } from "../../edge-contract/dev-conversion.js";

type Json = Record<string, unknown>;

export interface ConversionReviewResponse {
  apiVersion: "apiextensions.k8s.io/v1";
  kind: "ConversionReview";
  response: {
    uid: string;
    convertedObjects?: Json[];
    result: { status: "Success" } | { status: "Failure"; message: string };
  };
}

/** A request that is not a ConversionReview at all (the HTTP answer is a 400). */
export class BadReviewError extends Error {
  override name = "BadReviewError";
}

/** Answers one ConversionReview (apiextensions.k8s.io/v1). */
export function reviewConversion(review: unknown): ConversionReviewResponse {
  if (!isObject(review) || review.kind !== "ConversionReview" || review.apiVersion !== "apiextensions.k8s.io/v1") {
    throw new BadReviewError("expected an apiextensions.k8s.io/v1 ConversionReview");
  }
  const request = review.request;
  if (!isObject(request) || typeof request.uid !== "string" || !request.uid) throw new BadReviewError("request.uid is required");
  const answer = (result: ConversionReviewResponse["response"]["result"], convertedObjects?: Json[]): ConversionReviewResponse => ({
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "ConversionReview",
    response: { uid: request.uid as string, ...(convertedObjects ? { convertedObjects } : {}), result },
  });
  const desired = request.desiredAPIVersion;
  const objects = request.objects;
  if (typeof desired !== "string" || !Array.isArray(objects)) {
    return answer({ status: "Failure", message: "request.desiredAPIVersion and request.objects are required" });
  }
  const converted: Json[] = [];
  for (const [i, obj] of objects.entries()) {
    if (!isObject(obj)) return answer({ status: "Failure", message: `objects[${i}]: not an object` });
    const group = typeof obj.apiVersion === "string" ? obj.apiVersion.split("/")[0] : "";
    if (!isDevConvertible(group, String(obj.kind))) return answer({ status: "Failure", message: `objects[${i}]: no conversion for ${String(obj.apiVersion)} ${String(obj.kind)}` });
    try {
      converted.push(convertDevObject(obj, desired));
    } catch (e) {
      return answer({ status: "Failure", message: `objects[${i}]: ${(e as Error).message}` });
    }
  }
  return answer({ status: "Success" }, converted);
}
