import { ForbiddenError, RunplaneError } from "@runplane/core";
import { readBodyBytes } from "~/services/apiRoute.server";
import { withErrorResponse } from "~/services/httpErrors.server";
import type { Runtime } from "~/services/runtime.server";
import { MAX_PACKET_BYTES } from "./objectStore.server";
import { PACKET_TOO_LARGE_MESSAGE } from "./packetService.server";
import type { PacketUrlOperation } from "./packetUrls.server";

class MethodNotAllowedError extends RunplaneError {
  constructor() {
    super("method_not_allowed", "Use GET or PUT on a packet URL", 405);
  }
}

function verify(request: Request, key: string, op: PacketUrlOperation, runtime: Runtime) {
  const verdict = runtime.packets.signer.verify(key, new URL(request.url).searchParams);
  if (!verdict.ok) throw new ForbiddenError(verdict.reason);
  if (verdict.request.op !== op) throw new ForbiddenError(`This packet URL is for ${verdict.request.op.toUpperCase()} only`);
  return verdict.request;
}

/** GET on a signed URL: the packet's bytes with its original Content-Type. */
export function servePacketObject(request: Request, key: string, runtime: Runtime): Promise<Response> {
  return withErrorResponse(async () => {
    verify(request, key, "get", runtime);
    const object = await runtime.packets.get(key);
    return new Response(new Uint8Array(object.data), { status: 200, headers: { "content-type": object.contentType, "content-length": String(object.data.length) } });
  }, runtime.logger);
}

/** PUT on a signed URL: stores the body (up to 10 MiB; beyond that 413 naming the limit). */
export function storePacketObject(request: Request, key: string, runtime: Runtime): Promise<Response> {
  return withErrorResponse(async () => {
    if (request.method.toUpperCase() !== "PUT") throw new MethodNotAllowedError();
    const signed = verify(request, key, "put", runtime);
    const data = await readBodyBytes(request, MAX_PACKET_BYTES, PACKET_TOO_LARGE_MESSAGE);
    const contentType = request.headers.get("content-type") ?? "application/json";
    await runtime.packets.put(key, signed.residency, { data, contentType });
    return new Response(null, { status: 200 });
  }, runtime.logger);
}
