import superjson from "superjson";

/**
 * Payloads and outputs travel as packets: a string plus its type. The worker writes SuperJSON (as the
 * published SDK does, so Dates, Maps, Sets and BigInts survive) and reads every type the server may hand
 * back: SuperJSON, plain JSON and text.
 */
export const PACKET_TYPES = {
  superJson: "application/super+json",
  json: "application/json",
  text: "text/plain",
  store: "application/store",
} as const;

export type Packet = { data?: string; dataType: string };

export function serializePacket(value: unknown): Packet {
  if (value === undefined) return { dataType: PACKET_TYPES.json };
  return { data: superjson.stringify(value), dataType: PACKET_TYPES.superJson };
}

export class PacketDecodeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PacketDecodeError";
  }
}

/** Decodes a packet. Offloaded packets (`application/store`) must be fetched first; see `importPacket`. */
export function deserializePacket(data: string | undefined | null, dataType: string | undefined | null): unknown {
  const type = (dataType ?? PACKET_TYPES.json).split(";")[0]!.trim().toLowerCase();
  if (data === undefined || data === null) return undefined;
  try {
    switch (type) {
      case PACKET_TYPES.superJson:
        return data === "" ? undefined : superjson.parse(data);
      case PACKET_TYPES.json:
        return data === "" ? undefined : JSON.parse(data);
      case PACKET_TYPES.text:
        return data;
      case PACKET_TYPES.store:
        throw new PacketDecodeError(`Offloaded packet ${data} must be imported before decoding`);
      default:
        // Unknown types: JSON if it parses, else the raw string.
        try {
          return JSON.parse(data);
        } catch {
          return data;
        }
    }
  } catch (error) {
    if (error instanceof PacketDecodeError) throw error;
    throw new PacketDecodeError(`Could not decode a ${type} packet: ${(error as Error).message}`, { cause: error });
  }
}
