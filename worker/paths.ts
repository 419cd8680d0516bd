// One normalization of the request path, before any routing: the path a route sees is the path the
// client sent, segment for segment, or the request is refused.
//
// Why refuse instead of resolving: WHATWG URL parsing (what `new URL` and every Request do) turns `\`
// into `/`, resolves `.`/`..` segments including percent-encoded ones (`%2e`, `%2E%2e`), and reads a
// path that starts with `//` as scheme-relative. Each of those once let a request escape the route it
// matched (a `//x/_admin/...` suffix became the DO path `/_admin/...`; `configmaps/%2e` became the
// collection). kube-apiserver has no use for any of them, so they answer 400 here.

/** The raw path of a request URL string (no query or fragment), exactly as received. */
export function rawPath(url: string): string {
  const afterScheme = url.indexOf("://");
  const pathStart = url.indexOf("/", afterScheme < 0 ? 0 : afterScheme + 3);
  if (pathStart < 0) return "/";
  const end = url.slice(pathStart).search(/[?#]/);
  return end < 0 ? url.slice(pathStart) : url.slice(pathStart, pathStart + end);
}

/**
 * Why the path cannot be routed, or undefined when it is clean: every segment non-empty (a single
 * trailing `/` is allowed), valid percent-encoding, and no segment that decodes to `.` or `..` or
 * contains `/` or `\`.
 */
export function unsafePath(path: string): string | undefined {
  if (!path.startsWith("/")) return "the request path must start with /";
  const segments = path.slice(1).split("/");
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i];
    if (seg === "") {
      if (i === segments.length - 1) continue;
      return "the request path has an empty segment (//)";
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(seg);
    } catch {
      return "the request path has malformed percent-encoding";
    }
    if (decoded === "." || decoded === "..") return "the request path has a '.' or '..' segment";
    if (decoded.includes("/") || decoded.includes("\\")) return "the request path has an encoded '/' or a '\\' in a segment";
  }
  return undefined;
}
