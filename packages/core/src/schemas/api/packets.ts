/**
 * Large payloads and outputs (>= 128 KiB serialized are offloaded by the SDK).
 *
 * - PUT /api/v2/packets/{encoded path} → {@link CreateUploadPacketUrlResponse}: both fields are
 *   required. The SDK then PUTs the raw body to `presignedUrl` with `Content-Type: <dataType>`
 *   (any 2xx is success) and triggers with `payload: storagePath, payloadType: application/store`.
 * - GET /api/v1/packets/{encoded path} and GET /api/v1/runs/{runId}/packets/{payload|output}
 *   → {@link GetPacketUrlResponse}. A GET on the URL must answer with the packet's original
 *   `Content-Type`. On 404 the run route falls back to the path route.
 */
import { z } from "zod";

export const OFFLOAD_THRESHOLD_BYTES = 128 * 1024;
export const PacketField = z.enum(["payload", "output"]);

export const CreateUploadPacketUrlResponse = z.object({ presignedUrl: z.string(), storagePath: z.string() });
export const GetPacketUrlResponse = z.object({ presignedUrl: z.string() });

/** The `{path}` segment: one URI-encoded component holding slashes (`trigger/packet_x/payload.json`). */
export function decodePacketPath(segment: string): string | undefined {
  let path: string;
  try {
    path = decodeURIComponent(segment);
  } catch {
    return undefined;
  }
  if (path.length === 0 || path.startsWith("/") || path.split("/").some((part) => part === ".." || part === "")) {
    return undefined;
  }
  return path;
}
