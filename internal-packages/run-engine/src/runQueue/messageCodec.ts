import { QueueMessageSchema, type QueueMessage, type QueueMessageInput } from "./types.js";
import type { Identity } from "./keys.js";

/** A parsed message with the raw JSON stored for it (scripts compare the raw JSON to detect races). */
export type StoredMessage = { message: QueueMessage; raw: string };

export function normalizeMessage(input: QueueMessageInput): QueueMessage {
  const message = QueueMessageSchema.parse(input);
  if (!message.concurrencyKey) delete message.concurrencyKey;
  if (message.ttlExpiresAt == null) delete message.ttlExpiresAt;
  return message;
}

export function encodeMessage(message: QueueMessage): string {
  return JSON.stringify(message);
}

export function decodeMessage(raw: string): QueueMessage {
  return QueueMessageSchema.parse(JSON.parse(raw));
}

export function identityOf(message: QueueMessage): Identity {
  return { environmentId: message.environmentId, queue: message.queue, concurrencyKey: message.concurrencyKey ?? "" };
}

/** Queue order: earlier is served first; a message is due once its score is <= now. */
export function scoreOf(message: QueueMessage): number {
  return message.timestamp - message.priorityMs;
}
