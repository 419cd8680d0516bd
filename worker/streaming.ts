// Keeps streamed responses (watches) from being compressed on the way out.
//
// Why: Miniflare's entry worker emulates Cloudflare's edge compression, gzip/br-encoding every
// `application/json` response when the client sends Accept-Encoding (undici and Go's transport do by
// default). The encoder buffers small writes, so watch events never reach the client. A response
// that already names an encoding other than gzip/br is left alone (and Cloudflare honours
// `no-transform`), so streamed bodies are marked `identity` + `no-transform`.

/** True for Kubernetes watch requests: `?watch=true|1` or the legacy `/watch/` path segment. */
export function isWatchRequest(url: URL): boolean {
  const w = url.searchParams.get("watch");
  if (w === "true" || w === "1") return true;
  return /^\/(api\/[^/]+|apis\/[^/]+\/[^/]+)\/watch(\/|$)/.test(url.pathname);
}

/**
 * Marks a watch's 2xx response as not to be compressed; every other response is returned as it is
 * (a whole JSON body may be compressed, and rebuilding each response cost the edge ~2% of its CPU).
 */
export function uncompressedStream(res: Response, watch: boolean): Response {
  if (!watch || res.status === 101 || !res.body || res.status < 200 || res.status >= 300) return res;
  if (res.headers.has("content-encoding")) return res;
  const headers = new Headers(res.headers);
  headers.set("content-encoding", "identity");
  const cc = headers.get("cache-control");
  headers.set("cache-control", cc ? `${cc}, no-transform` : "no-transform");
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}
