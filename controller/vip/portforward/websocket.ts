// The WebSocket tunnel kubectl >= 1.31 and KCP try first: subprotocol `SPDY/3.1+portforward.k8s.io`, the
// SPDY session of session.ts carried in binary messages with arbitrary boundaries.
//
// The 101 is written by hand: `ws`'s WebSocketServer answers 400 to this subprotocol (`/` and `+` are not
// RFC 7230 token characters). After the handshake `ws` does the framing (masking, fragmentation, ping and
// close) through `setSocket`, an undocumented but long-stable method that its own server uses.
import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocket, createWebSocketStream } from "ws";

export const WS_PORTFORWARD_PROTOCOL = "SPDY/3.1+portforward.k8s.io";
const WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/** Largest inbound message; kubectl sends one SPDY frame (at most 32 KiB of data) per message. */
const MAX_MESSAGE = 16 * 1024 * 1024;

export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? "").toLowerCase() === "websocket";
}

export function offeredSubprotocols(req: IncomingMessage): string[] {
  const raw = req.headers["sec-websocket-protocol"];
  const joined = Array.isArray(raw) ? raw.join(",") : (raw ?? "");
  return joined
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
}

/** Why this request cannot become a port-forward WebSocket, or undefined if it can. */
export function webSocketRejection(req: IncomingMessage): string | undefined {
  if (req.method !== "GET") return "WebSocket upgrade requires GET";
  if (req.headers["sec-websocket-version"] !== "13") return "unsupported Sec-WebSocket-Version (want 13)";
  const key = req.headers["sec-websocket-key"];
  if (typeof key !== "string" || Buffer.from(key, "base64").length !== 16) return "missing or invalid Sec-WebSocket-Key";
  if (!offeredSubprotocols(req).includes(WS_PORTFORWARD_PROTOCOL)) {
    return `no supported port-forward subprotocol offered (want ${WS_PORTFORWARD_PROTOCOL})`;
  }
  return undefined;
}

/**
 * Complete the handshake (call webSocketRejection first) and return the tunnel as a byte Duplex:
 * reads are the concatenated payloads of the client's messages, each write is sent as one binary message.
 */
export function acceptPortForwardWebSocket(req: IncomingMessage, socket: Duplex, head: Buffer): Duplex {
  const accept = createHash("sha1")
    .update(String(req.headers["sec-websocket-key"]) + WS_GUID)
    .digest("base64");
  socket.write(
    "HTTP/1.1 101 Switching Protocols\r\n" +
      "Upgrade: websocket\r\n" +
      "Connection: Upgrade\r\n" +
      `Sec-WebSocket-Accept: ${accept}\r\n` +
      `Sec-WebSocket-Protocol: ${WS_PORTFORWARD_PROTOCOL}\r\n\r\n`,
  );
  // `null` address = server-side socket (unmasked frames, expects masked ones).
  const ws = new (WebSocket as unknown as new (a: null, p: undefined, o: object) => WebSocket)(null, undefined, {});
  (ws as unknown as { setSocket(s: Duplex, h: Buffer, o: object): void }).setSocket(socket, head, {
    maxPayload: MAX_MESSAGE,
    skipUTF8Validation: true,
  });
  const stream = createWebSocketStream(ws);
  // A closing peer may surface as an error (e.g. ECONNRESET); the session treats it as the end.
  stream.on("error", () => {});
  return stream;
}
