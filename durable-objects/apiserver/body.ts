// Request body reading with a hard size limit, and JSON/YAML decoding into plain values.
import { parse as parseYaml } from "yaml";
import { errors } from "./status.js";

/** Deeper documents are refused: recursive helpers (merge, compare, clone) must never overflow the stack. */
const MAX_DEPTH = 100;

/**
 * After refusing an oversized streamed body, this much more of it is read and dropped before the 413 is
 * sent: a client still uploading would otherwise hit a closed connection (EPIPE) and never see the
 * answer. Go's net/http server drains 256 KiB for the same reason; a bounded amount keeps an endless
 * upload from holding the request.
 */
const DRAIN_AFTER_LIMIT = 1 << 20;

/** Read the whole body, refusing (413) anything over `limit` bytes — by Content-Length and while streaming. */
export async function readBodyBytes(request: Request, limit: number): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) throw errors.tooLarge(limit);
  if (!request.body) return new Uint8Array();
  // A declared length within the limit is what the runtime delivers (it fails a body that differs),
  // so the body is read in one native call instead of chunk by chunk.
  if (declared !== null) return new Uint8Array(await request.arrayBuffer());
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      for (let drained = 0; drained < DRAIN_AFTER_LIMIT; ) {
        const next = await reader.read().catch(() => ({ done: true as const, value: undefined }));
        if (next.done) break;
        drained += next.value.byteLength;
      }
      await reader.cancel().catch(() => undefined);
      throw errors.tooLarge(limit);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.byteLength;
  }
  return all;
}

export async function readBodyText(request: Request, limit: number): Promise<string> {
  return utf8(await readBodyBytes(request, limit));
}

/** One decoder for every body: a non-streaming decode() starts afresh each time. */
const UTF8 = new TextDecoder("utf-8", { fatal: true });

export function utf8(bytes: Uint8Array): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    throw errors.badRequest("the request body is not valid UTF-8");
  }
}

export type BodyFormat = "json" | "yaml" | "protobuf";

/** Media type without parameters, lower-cased ("" when absent). */
export function mediaType(header: string | null): string {
  return (header ?? "").split(";")[0].trim().toLowerCase();
}

function checkDepth(value: unknown): void {
  // Iterative walk so the check itself cannot overflow.
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (d > MAX_DEPTH) throw errors.badRequest(`the request body is nested deeper than ${MAX_DEPTH} levels`);
    for (const child of Object.values(v as object)) stack.push([child, d + 1]);
  }
}

/** Decode a body as JSON (or YAML); 400 BadRequest for anything malformed. */
export function decodeBody(text: string, format: BodyFormat): unknown {
  if (text.trim() === "") throw errors.badRequest("the request body is empty");
  let value: unknown;
  try {
    value = format === "yaml" ? parseYaml(text, { maxAliasCount: 50, uniqueKeys: false }) : JSON.parse(text);
  } catch (e) {
    const msg = e instanceof Error ? e.message.split("\n")[0].slice(0, 200) : "parse error";
    throw errors.badRequest(`couldn't get version/kind; ${format} parse error: ${msg}`);
  }
  checkDepth(value);
  return value;
}

/** Decode a body that must be a single JSON object (create, update, merge patches). */
export function decodeObject(text: string, format: BodyFormat): Record<string, unknown> {
  const v = decodeBody(text, format);
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw errors.badRequest("couldn't get version/kind; json parse error: the request body must be a JSON object");
  }
  return v as Record<string, unknown>;
}

/** Format of a create/update body from its Content-Type; protobuf and others are 415. */
export function objectBodyFormat(contentType: string | null): BodyFormat {
  const mt = mediaType(contentType);
  if (mt === "" || mt === "application/json" || mt === "*/*") return "json";
  if (mt === "application/yaml" || mt === "application/x-yaml" || mt === "text/yaml") return "yaml";
  if (mt === "application/vnd.kubernetes.protobuf") return "protobuf";
  throw errors.unsupportedMediaType(mt);
}
