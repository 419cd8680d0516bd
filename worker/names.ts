// Validation of the namespace/name path parameters that address a cluster (Kubernetes naming rules).
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Returns an error message, or undefined when both are valid. */
export function invalidClusterRef(namespace: string, name: string): string | undefined {
  if (namespace.length > 63 || !DNS1123_LABEL.test(namespace)) {
    return `invalid cluster namespace ${JSON.stringify(namespace)}: must be a DNS-1123 label (lower case alphanumerics and '-', at most 63 characters)`;
  }
  if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
    return `invalid cluster name ${JSON.stringify(name)}: must be a DNS-1123 subdomain (lower case alphanumerics, '-' and '.', at most 253 characters)`;
  }
  return undefined;
}

/** Percent-decodes one path segment; undefined when it is malformed. */
export function decodeSegment(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}
