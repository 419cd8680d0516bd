// Watch streams: newline-delimited JSON watch events over a ReadableStream, with kube-apiserver's
// filtering semantics (an object that stops matching is sent as DELETED, one that starts matching as
// ADDED), bookmarks, timeoutSeconds and heartbeats that expose (and drop) dead watchers.
import type { EventRecord, KubeObject, WatchEventType } from "./types.js";

export type OutType = WatchEventType | "BOOKMARK" | "ERROR";

export interface WatchSpec {
  group: string;
  resource: string;
  /** Full filter: namespace, name, label and field selectors — the same predicate the list uses. */
  matches: (obj: KubeObject) => boolean;
  /** Turns a stored object into what goes on the wire (apiVersion relabel, Table rows). */
  render: (obj: KubeObject, type: OutType) => unknown;
  /**
   * Watchers with the same key render every object identically (e.g. plain JSON at one apiVersion),
   * so a live event is rendered and serialized once for all of them. Absent: render per watcher
   * (Table output, whose first event carries the column definitions).
   */
  encodingKey?: string;
  /** JSON text of `render(obj)` when the rendering is plain JSON: lets a live event reuse the write's own serialization. */
  renderJson?: (obj: KubeObject) => string;
  bookmark: (rv: number, initialEventsEnd: boolean) => unknown;
  allowBookmarks: boolean;
  /** Events sent before anything live (initial state, or a replay from the log). */
  initial: Array<{ type: OutType; object: KubeObject }>;
  /** Send the `k8s.io/initial-events-end` bookmark after `initial`. */
  initialEventsEnd: boolean;
  timeoutMs?: number;
}

/** Map a stored change onto what a filtered watcher sees; undefined = not visible. */
export function filterEvent(
  type: WatchEventType,
  object: KubeObject,
  previous: KubeObject | undefined,
  matches: (o: KubeObject) => boolean,
): WatchEventType | undefined {
  const now = matches(object);
  if (type === "ADDED") return now ? "ADDED" : undefined;
  if (type === "DELETED") return now ? "DELETED" : undefined;
  // MODIFIED; an unknown previous state (resume beyond what the log shows) counts as matching the same way.
  const before = previous ? matches(previous) : now;
  if (before && now) return "MODIFIED";
  if (before) return "DELETED";
  if (now) return "ADDED";
  return undefined;
}

/** Replay events with rv > since from the log, computing each event's previous state from the log itself. */
export function replay(log: readonly EventRecord[], since: number, group: string, resource: string, matches: (o: KubeObject) => boolean) {
  const last = new Map<string, KubeObject>();
  const out: Array<{ type: OutType; object: KubeObject }> = [];
  for (const e of log) {
    if (e.key.group !== group || e.key.resource !== resource) continue;
    const k = `${e.key.namespace}/${e.key.name}`;
    if (e.rv > since) {
      const t = filterEvent(e.type, e.object, last.get(k), matches);
      if (t) out.push({ type: t, object: e.object });
    }
    if (e.type === "DELETED") last.delete(k);
    else last.set(k, e.object);
  }
  return out;
}

function eventLine(type: OutType, object: unknown): string {
  return JSON.stringify({ type, object }) + "\n";
}

/** `eventLine(type, JSON.parse(objectJson))` without parsing: type is one of the fixed event names. */
function eventLineFromJson(type: OutType, objectJson: string): string {
  return `{"type":"${type}","object":${objectJson}}\n`;
}

/** Queued chunks beyond which a watcher counts as stuck and is dropped (kube-apiserver does the same). */
export const MAX_BACKLOG = 10_000;

class Watcher {
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  private timers: Array<ReturnType<typeof setTimeout>> = [];
  private closed = false;
  readonly stream: ReadableStream<Uint8Array>;
  private readonly encoder = new TextEncoder();

  constructor(
    readonly spec: WatchSpec,
    private readonly onClose: (w: Watcher) => void,
  ) {
    this.stream = new ReadableStream<Uint8Array>({
      start: (c) => {
        this.controller = c;
      },
      cancel: () => this.close(false),
    });
  }

  addTimer(t: ReturnType<typeof setTimeout>): void {
    // Node: a watch must not keep the process alive on its own (no-op in workerd).
    (t as unknown as { unref?: () => void }).unref?.();
    this.timers.push(t);
  }

  send(type: OutType, object: unknown): boolean {
    return this.write(eventLine(type, object));
  }

  write(text: string): boolean {
    if (this.closed) return false;
    try {
      const backlog = this.controller.desiredSize;
      if (backlog !== null && backlog < -MAX_BACKLOG) {
        // The stream must end, not just stop: a watcher dropped while its response stayed open got
        // no more events and no reason to re-watch (an informer went stale for good). Erroring it
        // frees the backlog and cuts the response; the client re-watches from its last resourceVersion.
        this.close(false);
        this.controller.error(new Error(`watch dropped: more than ${MAX_BACKLOG} events unread`));
        return false;
      }
      this.controller.enqueue(this.encoder.encode(text));
      return true;
    } catch {
      this.close(false);
      return false;
    }
  }

  close(endStream = true): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) {
      clearTimeout(t);
      clearInterval(t);
    }
    this.onClose(this);
    if (endStream) {
      try {
        this.controller.close();
      } catch {
        // already errored or cancelled
      }
    }
  }
}

export class WatchHub {
  private watchers = new Set<Watcher>();

  constructor(
    private readonly heartbeatMs: number,
    private readonly currentRv: () => number,
  ) {}

  get size(): number {
    return this.watchers.size;
  }

  open(spec: WatchSpec): Response {
    const w = new Watcher(spec, (x) => this.watchers.delete(x));
    this.watchers.add(w);
    for (const e of spec.initial) w.send(e.type, spec.render(e.object, e.type));
    if (spec.initialEventsEnd) w.send("BOOKMARK", spec.bookmark(this.currentRv(), true));
    if (spec.timeoutMs !== undefined) w.addTimer(setTimeout(() => w.close(), spec.timeoutMs));
    w.addTimer(
      setInterval(() => {
        // A write to a vanished client fails (or backs up) here, which drops the watcher.
        if (spec.allowBookmarks) w.send("BOOKMARK", spec.bookmark(this.currentRv(), false));
        else w.write("\n");
      }, this.heartbeatMs),
    );
    return new Response(w.stream, {
      status: 200,
      headers: {
        "content-type": "application/json",
        "cache-control": "no-cache, private",
        // An explicit coding stops the edge runtime (Cloudflare, and miniflare emulating it) from
        // gzipping the stream, which would hold events back in the compressor for clients that send
        // Accept-Encoding: gzip (client-go, undici).
        "content-encoding": "identity",
      },
    });
  }

  /** A single ERROR event (e.g. 410 Expired), then the end of the stream: what client-go expects. */
  openError(status: unknown): Response {
    return new Response(JSON.stringify({ type: "ERROR", object: status }) + "\n", {
      status: 200,
      headers: { "content-type": "application/json", "cache-control": "no-cache, private" },
    });
  }

  publish(event: EventRecord, previous: KubeObject | undefined): void {
    // One serialization per (encoding, event type) for this event, shared by the watchers that match.
    let lines: Map<string, string> | undefined;
    for (const w of [...this.watchers]) {
      const s = w.spec;
      if (s.group !== event.key.group || s.resource !== event.key.resource) continue;
      let t: WatchEventType | undefined;
      try {
        t = filterEvent(event.type, event.object, previous, s.matches);
        if (!t) continue;
        if (s.encodingKey === undefined) {
          w.send(t, s.render(event.object, t));
          continue;
        }
        const key = `${t} ${s.encodingKey}`;
        let line = (lines ??= new Map()).get(key);
        if (line === undefined) {
          line = s.renderJson ? eventLineFromJson(t, s.renderJson(event.object)) : eventLine(t, s.render(event.object, t));
          lines.set(key, line);
        }
        w.write(line);
      } catch {
        w.close();
      }
    }
  }

  closeAll(): void {
    for (const w of [...this.watchers]) w.close();
  }
}
