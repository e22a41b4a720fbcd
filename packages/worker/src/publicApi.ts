import { randomUUID } from "node:crypto";
import { z } from "zod";
import { ApiError } from "./errors.js";
import type { HttpClient } from "./http.js";
import { deserializePacket, PACKET_TYPES, serializePacket, type Packet } from "./packets.js";
import type { WorkerMachinePreset } from "./protocol.js";

/** Trigger options a task or a script may pass (the public trigger API's `options`, §4.1 of the reference). */
export type TriggerOptions = {
  idempotencyKey?: string;
  idempotencyKeyTTL?: string;
  concurrencyKey?: string;
  queue?: string | { name: string };
  delay?: string | Date;
  ttl?: string | number;
  tags?: string | string[];
  metadata?: Record<string, unknown>;
  maxAttempts?: number;
  maxDuration?: number;
  machine?: WorkerMachinePreset;
  priority?: number;
  lockToVersion?: string;
};

/** Options the runtime adds for runs triggered from inside a task. */
export type ParentLink = { parentRunId: string; resumeParentOnCompletion?: boolean; test?: boolean };

export type BatchItem<TPayload = unknown> = { payload: TPayload; options?: TriggerOptions };

const TriggerResponse = z.object({ id: z.string(), isCached: z.boolean().optional() });
export type TriggerResult = { id: string; isCached: boolean };

const CreateBatchResponse = z.object({
  id: z.string(),
  runCount: z.number().int(),
  isCached: z.boolean().default(false),
});
const BatchItemsResponse = z.object({
  id: z.string(),
  itemsAccepted: z.number().int().default(0),
  itemsDeduplicated: z.number().int().default(0),
  sealed: z.boolean(),
  enqueuedCount: z.number().int().optional(),
  expectedCount: z.number().int().optional(),
});
export type BatchTriggerResult = { batchId: string; runCount: number; isCached: boolean };

const CreateTokenResponse = z.object({ id: z.string(), isCached: z.boolean().default(false), url: z.string() });
export type WaitToken = z.infer<typeof CreateTokenResponse>;
export type CreateTokenOptions = {
  timeout?: string | Date;
  idempotencyKey?: string;
  idempotencyKeyTTL?: string;
  tags?: string | string[];
  /** The run creating the token (set by `wait.createToken` inside a run). */
  ownerRunId?: string;
};

const SuccessResponse = z.object({ success: z.boolean().default(true) });
const MetadataResponse = z.object({ metadata: z.record(z.unknown()).nullish().transform((v) => v ?? {}) });
const PacketUrlResponse = z.object({ presignedUrl: z.string() });
const UploadPacketUrlResponse = z.object({ presignedUrl: z.string(), storagePath: z.string() });

/** Packets of this many bytes or more are offloaded (uploaded) instead of sent inline, as the SDK does. */
export const OFFLOAD_THRESHOLD_BYTES = 128 * 1024;

export type MetadataOperation =
  | { type: "set"; key: string; value: unknown }
  | { type: "delete"; key: string }
  | { type: "append"; key: string; value: unknown }
  | { type: "remove"; key: string; value: unknown }
  | { type: "increment"; key: string; value: number }
  | { type: "update"; value: Record<string, unknown> };

export class BatchNotSealedError extends Error {
  constructor(batchId: string, tries: number) {
    super(`Batch ${batchId} was not sealed after sending its items ${tries} times`);
    this.name = "BatchNotSealedError";
  }
}

function encodeOptions(options: TriggerOptions | CreateTokenOptions | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options ?? {})) {
    if (value === undefined) continue;
    if (key === "queue") out.queue = typeof value === "string" ? { name: value } : value;
    else if (value instanceof Date) out[key] = value.toISOString();
    else out[key] = value;
  }
  return out;
}

function encodedPacket(packet: Packet): { payload?: string; payloadType: string } {
  return packet.data === undefined ? { payloadType: PACKET_TYPES.json } : { payload: packet.data, payloadType: packet.dataType };
}

/** The public API calls a task (or a script) makes: triggers, batches, wait tokens, metadata, packets. */
export class PublicApi {
  constructor(readonly http: HttpClient) {}

  async trigger(taskId: string, payload: unknown, options?: TriggerOptions, parent?: ParentLink): Promise<TriggerResult> {
    const encoded = await this.#encodePayload(payload);
    const body: Record<string, unknown> = {
      options: { ...encodeOptions(options), payloadType: encoded.payloadType, ...(parent ?? {}) },
    };
    if (encoded.payload !== undefined) body.payload = encoded.payload;
    const res = await this.http.request({
      method: "POST",
      path: `/api/v1/tasks/${encodeURIComponent(taskId)}/trigger`,
      body,
      schema: TriggerResponse,
      attempts: 5,
      idempotent: true,
      timeoutMs: 30_000,
    });
    return { id: res.id, isCached: res.isCached ?? false };
  }

  /** Two-phase batch: create, then stream the items as NDJSON until the server reports the batch sealed. */
  async batchTrigger(
    items: Array<{ task: string; payload: unknown; options?: TriggerOptions }>,
    parent?: ParentLink,
  ): Promise<BatchTriggerResult> {
    if (items.length === 0) throw new Error("batchTrigger needs at least one item");
    const createBody: Record<string, unknown> = {
      runCount: items.length,
      taskIdentifiers: [...new Set(items.map((i) => i.task))],
    };
    if (parent) {
      createBody.parentRunId = parent.parentRunId;
      if (parent.resumeParentOnCompletion) createBody.resumeParentOnCompletion = true;
    }
    const created = await this.http.request({
      method: "POST",
      path: "/api/v3/batches",
      body: createBody,
      schema: CreateBatchResponse,
      attempts: 5,
      idempotent: true,
      timeoutMs: 30_000,
    });
    if (created.isCached) return { batchId: created.id, runCount: created.runCount, isCached: true };

    const payloads = await Promise.all(items.map((item) => this.#encodePayload(item.payload)));
    const ndjson =
      items
        .map((item, index) => {
          const encoded = payloads[index]!;
          const line: Record<string, unknown> = {
            index,
            task: item.task,
            options: { ...encodeOptions(item.options), payloadType: encoded.payloadType },
          };
          if (parent?.test) (line.options as Record<string, unknown>).test = true;
          if (encoded.payload !== undefined) line.payload = encoded.payload;
          return JSON.stringify(line);
        })
        .join("\n") + "\n";
    const tries = 5;
    for (let i = 0; i < tries; i++) {
      const res = await this.http.request({
        method: "POST",
        path: `/api/v3/batches/${encodeURIComponent(created.id)}/items`,
        rawBody: { data: ndjson, contentType: "application/x-ndjson" },
        schema: BatchItemsResponse,
        attempts: 3,
        timeoutMs: 60_000,
      });
      if (res.sealed) return { batchId: created.id, runCount: created.runCount, isCached: false };
    }
    throw new BatchNotSealedError(created.id, tries);
  }

  createToken(options: CreateTokenOptions = {}): Promise<WaitToken> {
    return this.http.request({
      method: "POST",
      path: "/api/v1/waitpoints/tokens",
      body: encodeOptions(options),
      schema: CreateTokenResponse,
      attempts: 5,
      idempotent: true,
      timeoutMs: 30_000,
    });
  }

  async completeToken(tokenId: string, data: unknown): Promise<{ success: boolean }> {
    return this.http.request({
      method: "POST",
      path: `/api/v1/waitpoints/tokens/${encodeURIComponent(tokenId)}/complete`,
      body: { data },
      schema: SuccessResponse,
      attempts: 5,
      timeoutMs: 30_000,
    });
  }

  async updateMetadata(runId: string, operations: MetadataOperation[], signal?: AbortSignal): Promise<Record<string, unknown>> {
    const res = await this.http.request({
      method: "PUT",
      path: `/api/v1/runs/${encodeURIComponent(runId)}/metadata`,
      body: { operations },
      schema: MetadataResponse,
      signal,
      attempts: 3,
      timeoutMs: 15_000,
    });
    return res.metadata;
  }

  /** Fetches an offloaded packet (`application/store`) and decodes it by the type the store reports. */
  async importPacket(storagePath: string): Promise<unknown> {
    const { presignedUrl } = await this.http.request({
      method: "GET",
      path: `/api/v1/packets/${encodeURIComponent(storagePath)}`,
      schema: PacketUrlResponse,
      attempts: 3,
      timeoutMs: 30_000,
    });
    const url = new URL(presignedUrl, this.http.apiUrl);
    const response = await fetch(url, { signal: AbortSignal.timeout(60_000) });
    if (!response.ok) throw new ApiError(response.status, `Could not download packet ${storagePath}`, undefined);
    const type = response.headers.get("content-type") ?? PACKET_TYPES.json;
    return deserializePacket(await response.text(), type);
  }

  /**
   * Uploads a large packet (>= 128 KiB) and returns the `application/store` reference to send instead;
   * smaller packets come back unchanged. A refused upload (e.g. 413 over 10 MiB) throws with the server's message.
   */
  async exportPacket(packet: Packet, pathPrefix: string): Promise<Packet> {
    if (packet.data === undefined || Buffer.byteLength(packet.data, "utf8") < OFFLOAD_THRESHOLD_BYTES) return packet;
    const extension = packet.dataType === PACKET_TYPES.superJson ? "json" : packet.dataType === PACKET_TYPES.text ? "txt" : "json";
    const { presignedUrl, storagePath } = await this.http.request({
      method: "PUT",
      path: `/api/v2/packets/${encodeURIComponent(`${pathPrefix}.${extension}`)}`,
      schema: UploadPacketUrlResponse,
      attempts: 3,
      timeoutMs: 30_000,
    });
    const response = await fetch(new URL(presignedUrl, this.http.apiUrl), {
      method: "PUT",
      headers: { "content-type": packet.dataType },
      body: packet.data,
      signal: AbortSignal.timeout(120_000),
    });
    if (!response.ok) {
      const text = await response.text().catch(() => "");
      let message = text;
      try {
        message = (JSON.parse(text) as { error?: string }).error ?? text;
      } catch {
        // not JSON
      }
      throw new ApiError(response.status, `Could not upload packet ${storagePath}: ${message || response.statusText}`, undefined);
    }
    return { data: storagePath, dataType: PACKET_TYPES.store };
  }

  /** A trigger payload as sent: inline, or (128 KiB or more) uploaded first and sent as its storage path. */
  async #encodePayload(payload: unknown): Promise<{ payload?: string; payloadType: string }> {
    return encodedPacket(await this.exportPacket(serializePacket(payload), `packets/${randomUUID()}/payload`));
  }

  /** Decodes a packet, importing it first when it was offloaded. */
  async decodePacket(data: string | undefined, dataType: string | undefined): Promise<unknown> {
    if ((dataType ?? "").startsWith(PACKET_TYPES.store) && data) return this.importPacket(data);
    return deserializePacket(data, dataType);
  }
}
