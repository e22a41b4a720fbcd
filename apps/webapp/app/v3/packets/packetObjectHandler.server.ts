import type { IncomingMessage, ServerResponse } from "node:http";
import { RunplaneError } from "@runplane/core";
import type { Logger } from "~/services/logger.server";
import { MAX_PACKET_BYTES } from "./objectStore.server";
import { PACKET_TOO_LARGE_MESSAGE, type PacketService } from "./packetService.server";
import type { PacketUrlOperation } from "./packetUrls.server";

/** An oversized upload is read to its end (discarded) up to this, so the client sees the 413 instead of a broken pipe. */
const DRAIN_LIMIT_BYTES = 4 * MAX_PACKET_BYTES;

/**
 * GET and PUT on a signed packet URL (`/packet-objects/<key>?op&rs&exp&sig`). A plain Node handler, not
 * a Remix route: it streams bytes and must answer with the packet's exact Content-Type (Express would
 * append a charset). The signature is the credential; no API key.
 */
export function createPacketObjectHandler(packets: PacketService, logger: Logger) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      const url = new URL(req.url ?? "/", "http://localhost");
      const key = decodeURIComponent(url.pathname.replace(/^\/+/, ""));
      const method = (req.method ?? "GET").toUpperCase();
      const op: PacketUrlOperation | undefined = method === "GET" || method === "HEAD" ? "get" : method === "PUT" ? "put" : undefined;
      if (!op) return send(res, 405, { error: "Use GET or PUT on a packet URL" });
      const verdict = packets.signer.verify(key, url.searchParams);
      if (!verdict.ok) return send(res, 403, { error: verdict.reason });
      if (verdict.request.op !== op) return send(res, 403, { error: `This packet URL is for ${verdict.request.op.toUpperCase()} only` });

      if (op === "get") {
        const object = await packets.get(key);
        res.writeHead(200, { "content-type": object.contentType, "content-length": String(object.data.length) });
        res.end(method === "HEAD" ? undefined : object.data);
        return;
      }
      const body = await readLimited(req);
      if (body === "too-large") return send(res, 413, { error: PACKET_TOO_LARGE_MESSAGE });
      await packets.put(key, verdict.request.residency, { data: body, contentType: req.headers["content-type"] ?? "application/json" });
      res.writeHead(200).end();
    } catch (error) {
      if (error instanceof RunplaneError) return send(res, error.status, { error: error.message });
      logger.error("packet object request failed", { error: error instanceof Error ? error.message : String(error) });
      send(res, 500, { error: "Internal server error" });
    }
  };
}

function send(res: ServerResponse, status: number, body: { error: string }): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

async function readLimited(req: IncomingMessage): Promise<Buffer | "too-large"> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > DRAIN_LIMIT_BYTES) {
      req.destroy();
      return "too-large";
    }
    if (total <= MAX_PACKET_BYTES) chunks.push(chunk);
  }
  return total > MAX_PACKET_BYTES ? "too-large" : Buffer.concat(chunks);
}
