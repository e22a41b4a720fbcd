import { createRequire } from "node:module";
import { gunzipSync } from "node:zlib";
import { ValidationError, RunplaneError } from "@runplane/core";
import { z } from "zod";

/**
 * OTLP/HTTP request bodies → plain spans and log records. Protobuf is decoded with the message
 * classes OpenTelemetry generated from the published .proto files (shipped in
 * @opentelemetry/otlp-transformer); JSON follows the OTLP/JSON mapping (hex ids, string nanos).
 * Anything malformed is a ValidationError (400).
 */

type ProtoMessage = {
  decode(data: Uint8Array): unknown;
  toObject(message: unknown, options: Record<string, unknown>): Record<string, unknown>;
};
type ProtoRoot = {
  opentelemetry: {
    proto: {
      collector: {
        trace: { v1: { ExportTraceServiceRequest: ProtoMessage } };
        logs: { v1: { ExportLogsServiceRequest: ProtoMessage } };
      };
    };
  };
};

// CommonJS module without an exports map entry for this path: load it with require.
const protoRoot = createRequire(import.meta.url)("@opentelemetry/otlp-transformer/build/src/generated/root.js") as ProtoRoot;
const { ExportTraceServiceRequest } = protoRoot.opentelemetry.proto.collector.trace.v1;
const { ExportLogsServiceRequest } = protoRoot.opentelemetry.proto.collector.logs.v1;

export type OtlpSignal = "traces" | "logs";
export type Attributes = Record<string, unknown>;

export type OtlpSpan = {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  startNs: bigint;
  endNs: bigint;
  /** 0 unset, 1 ok, 2 error. */
  statusCode: number;
  statusMessage: string | null;
  attributes: Attributes;
  resource: Attributes;
  events: Array<{ name: string; timeNs: bigint; attributes: Attributes }>;
};

export type OtlpLog = {
  timeNs: bigint;
  severityNumber: number;
  severityText: string | null;
  body: unknown;
  traceId: string | null;
  spanId: string | null;
  attributes: Attributes;
  resource: Attributes;
};

export class UnsupportedOtlpMediaTypeError extends RunplaneError {
  constructor(contentType: string) {
    super("unsupported_media_type", `Content-Type must be application/json or application/x-protobuf, got "${contentType}"`, 415);
  }
}

/** Decompresses (gzip) and decodes one export request. */
export function decodeOtlpBody(
  signal: OtlpSignal,
  body: Buffer,
  headers: { contentType: string | null; contentEncoding: string | null },
  maxDecompressedBytes: number
): OtlpSpan[] | OtlpLog[] {
  const encoding = (headers.contentEncoding ?? "identity").trim().toLowerCase();
  let raw = body;
  if (encoding === "gzip") {
    try {
      raw = gunzipSync(body, { maxOutputLength: maxDecompressedBytes });
    } catch (error) {
      throw new ValidationError(`Invalid gzip body: ${(error as Error).message}`);
    }
  } else if (encoding !== "identity" && encoding !== "") {
    throw new ValidationError(`Unsupported Content-Encoding "${encoding}" (use gzip or none)`);
  }
  const mediaType = (headers.contentType ?? "").split(";")[0]!.trim().toLowerCase();
  let request: unknown;
  if (mediaType === "application/x-protobuf" || mediaType === "application/protobuf") {
    request = decodeProtobuf(signal, raw);
  } else if (mediaType === "application/json") {
    try {
      request = JSON.parse(raw.toString("utf8"));
    } catch {
      throw new ValidationError("Invalid JSON body");
    }
  } else {
    throw new UnsupportedOtlpMediaTypeError(mediaType);
  }
  return signal === "traces" ? readSpans(request) : readLogs(request);
}

function decodeProtobuf(signal: OtlpSignal, raw: Buffer): unknown {
  const message = signal === "traces" ? ExportTraceServiceRequest : ExportLogsServiceRequest;
  let decoded: unknown;
  try {
    decoded = message.decode(raw);
  } catch (error) {
    throw new ValidationError(`Invalid protobuf body: ${(error as Error).message}`);
  }
  // bytes as base64 here; ids are normalised to hex below (JSON already sends hex)
  return message.toObject(decoded, { longs: String, bytes: String, enums: Number, defaults: false, arrays: true });
}

// ---- OTLP/JSON structure (protobuf objects are converted to the same form) ----

// AnyValue is checked while it is converted (anyValue below): a recursive zod schema costs more than the rest of the decode.
const AnyValue = z.record(z.unknown());
const KeyValue = z.object({ key: z.string(), value: AnyValue.optional() });
const KeyValues = z.array(KeyValue).optional();
const Nanos = z.union([z.string().regex(/^\d+$/, "expected unix nanoseconds"), z.number().int().nonnegative()]).optional();
const Resource = z.object({ attributes: KeyValues }).passthrough().optional();

const SpanJson = z
  .object({
    traceId: z.string(),
    spanId: z.string(),
    parentSpanId: z.string().optional(),
    name: z.string().optional(),
    startTimeUnixNano: Nanos,
    endTimeUnixNano: Nanos,
    attributes: KeyValues,
    events: z.array(z.object({ name: z.string().optional(), timeUnixNano: Nanos, attributes: KeyValues }).passthrough()).optional(),
    status: z.object({ code: z.union([z.number(), z.string()]).optional(), message: z.string().optional() }).passthrough().optional(),
  })
  .passthrough();

const TracesJson = z.object({
  resourceSpans: z.array(
    z.object({ resource: Resource, scopeSpans: z.array(z.object({ spans: z.array(SpanJson).optional() }).passthrough()).optional() }).passthrough()
  ),
});

const LogJson = z
  .object({
    timeUnixNano: Nanos,
    observedTimeUnixNano: Nanos,
    severityNumber: z.union([z.number(), z.string()]).optional(),
    severityText: z.string().optional(),
    body: AnyValue.optional(),
    attributes: KeyValues,
    traceId: z.string().optional(),
    spanId: z.string().optional(),
  })
  .passthrough();

const LogsJson = z.object({
  resourceLogs: z.array(
    z.object({ resource: Resource, scopeLogs: z.array(z.object({ logRecords: z.array(LogJson).optional() }).passthrough()).optional() }).passthrough()
  ),
});

function parse<S extends z.ZodTypeAny>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new ValidationError(`Invalid OTLP ${what} body: ${issue.path.join(".") || "(root)"}: ${issue.message}`);
  }
  return result.data;
}

function readSpans(request: unknown): OtlpSpan[] {
  const body = parse(TracesJson, request, "traces");
  const spans: OtlpSpan[] = [];
  for (const rs of body.resourceSpans) {
    const resource = toAttributes(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const span of ss.spans ?? []) {
        const traceId = toHexId(span.traceId, 32, "traceId");
        const spanId = toHexId(span.spanId, 16, "spanId");
        const startNs = BigInt(span.startTimeUnixNano ?? 0);
        const endNs = BigInt(span.endTimeUnixNano ?? span.startTimeUnixNano ?? 0);
        spans.push({
          traceId,
          spanId,
          parentSpanId: span.parentSpanId ? toHexId(span.parentSpanId, 16, "parentSpanId") : null,
          name: span.name ?? "",
          startNs,
          endNs: endNs < startNs ? startNs : endNs,
          statusCode: statusCode(span.status?.code),
          statusMessage: span.status?.message ?? null,
          attributes: toAttributes(span.attributes),
          resource,
          events: (span.events ?? []).map((e) => ({ name: e.name ?? "", timeNs: BigInt(e.timeUnixNano ?? 0), attributes: toAttributes(e.attributes) })),
        });
      }
    }
  }
  return spans;
}

function readLogs(request: unknown): OtlpLog[] {
  const body = parse(LogsJson, request, "logs");
  const logs: OtlpLog[] = [];
  for (const rl of body.resourceLogs) {
    const resource = toAttributes(rl.resource?.attributes);
    for (const sl of rl.scopeLogs ?? []) {
      for (const record of sl.logRecords ?? []) {
        const time = record.timeUnixNano && record.timeUnixNano !== "0" && record.timeUnixNano !== 0 ? record.timeUnixNano : record.observedTimeUnixNano;
        logs.push({
          timeNs: BigInt(time ?? 0),
          severityNumber: Number(record.severityNumber ?? 0) || 0,
          severityText: record.severityText ?? null,
          body: record.body === undefined ? "" : anyValue(record.body),
          traceId: record.traceId ? toHexId(record.traceId, 32, "traceId") : null,
          spanId: record.spanId ? toHexId(record.spanId, 16, "spanId") : null,
          attributes: toAttributes(record.attributes),
          resource,
        });
      }
    }
  }
  return logs;
}

const STATUS_CODES: Record<string, number> = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };

function statusCode(code: number | string | undefined): number {
  if (code === undefined) return 0;
  return typeof code === "number" ? code : (STATUS_CODES[code] ?? (Number(code) || 0));
}

/** Hex (OTLP/JSON) or base64 (protobuf bytes, and some JSON exporters) → lower-case hex of `hexLength`. */
function toHexId(value: string, hexLength: number, field: string): string {
  if (value.length === hexLength && /^[0-9a-fA-F]+$/.test(value)) return value.toLowerCase();
  if (value === "") return "";
  const bytes = Buffer.from(value, "base64");
  if (bytes.length * 2 === hexLength) return bytes.toString("hex");
  throw new ValidationError(`Invalid ${field} "${value.slice(0, 40)}": expected ${hexLength} hex characters`);
}

function toAttributes(list: Array<{ key: string; value?: unknown }> | undefined): Attributes {
  const out: Attributes = {};
  for (const kv of list ?? []) out[kv.key] = kv.value === undefined ? null : anyValue(kv.value);
  return out;
}

function anyValue(value: unknown): unknown {
  if (typeof value !== "object" || value === null) throw new ValidationError("Invalid OTLP AnyValue: expected an object");
  const v = value as Record<string, unknown>;
  if (v.stringValue !== undefined) return String(v.stringValue);
  if (v.boolValue !== undefined) return v.boolValue === true;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return Number(v.doubleValue);
  if (v.bytesValue !== undefined) return String(v.bytesValue);
  if (v.arrayValue !== undefined) {
    const values = (v.arrayValue as { values?: unknown } | null)?.values ?? [];
    if (!Array.isArray(values)) throw new ValidationError("Invalid OTLP arrayValue: values must be an array");
    return values.map(anyValue);
  }
  if (v.kvlistValue !== undefined) {
    const values = (v.kvlistValue as { values?: unknown } | null)?.values ?? [];
    if (!Array.isArray(values) || values.some((kv) => typeof kv?.key !== "string")) throw new ValidationError("Invalid OTLP kvlistValue");
    return toAttributes(values as Array<{ key: string; value?: unknown }>);
  }
  return null;
}
