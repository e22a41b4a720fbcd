import type { PacketService } from "~/v3/packets/packetService.server";
import { STORE_PACKET_TYPE } from "~/v3/packets/packetService.server";
import { packet, type Packet } from "./format";

export type RunPacketFields = {
  runtimeEnvironmentId: string;
  payload: string;
  payloadType: string;
  output: string | null;
  outputType: string;
};

/**
 * A payload or output for the run page. Offloaded packets (128 KiB or more) are read from the object
 * store and shown like inline ones (capped), with a signed download link to the whole packet.
 */
export async function runPacketForDisplay(packets: PacketService, run: RunPacketFields, field: "payload" | "output"): Promise<Packet> {
  const [data, type] = field === "payload" ? [run.payload, run.payloadType] : [run.output, run.outputType];
  if (!type.startsWith(STORE_PACKET_TYPE)) return packet(data, type);
  const downloadUrl = packets.runPacketUrl(run, field);
  if (!downloadUrl) return packet(data, type);
  const object = await packets.find(`${run.runtimeEnvironmentId}/${data}`);
  if (!object) return { text: `Stored packet ${data} is missing from the object store.`, type, truncated: false, downloadUrl };
  const shown = packet(object.data.toString("utf8"), object.contentType);
  return shown ? { ...shown, downloadUrl, bytes: object.data.length } : null;
}
