import { createRequire } from "node:module";
import { apiAction, readBodyBytes } from "~/services/apiRoute.server";
import { withResponseFields } from "~/services/httpErrors.server";
import { EventStoreOverloadedError } from "./batchedWriter.server";
import { decodeOtlpBody, type OtlpSignal } from "./otlpDecode.server";

/** Compressed and decompressed body limit of one export request. */
export const OTLP_MAX_BODY_BYTES = 16 * 1024 * 1024;

type ResponseMessage = { fromObject(o: unknown): unknown; encode(m: unknown): { finish(): Uint8Array } };
const proto = createRequire(import.meta.url)("@opentelemetry/otlp-transformer/build/src/generated/root.js").opentelemetry.proto.collector;
const RESPONSES: Record<OtlpSignal, { message: ResponseMessage; rejectedField: string }> = {
  traces: { message: proto.trace.v1.ExportTraceServiceResponse, rejectedField: "rejectedSpans" },
  logs: { message: proto.logs.v1.ExportLogsServiceResponse, rejectedField: "rejectedLogRecords" },
};

/**
 * `POST /otel/v1/{traces,logs}`: OTLP/HTTP, JSON or protobuf, optionally gzip. The environment's
 * secret key authenticates (`Authorization: Bearer …`, what trigger.dev's task runtime sends).
 * Records naming no run of that environment are dropped and reported as OTLP partial success.
 */
export function otlpAction(signal: OtlpSignal) {
  return apiAction({}, {
    POST: async ({ request, auth, runtime }) => {
      const body = await readBodyBytes(request, OTLP_MAX_BODY_BYTES);
      const contentType = request.headers.get("content-type");
      const records = decodeOtlpBody(signal, body, { contentType, contentEncoding: request.headers.get("content-encoding") }, OTLP_MAX_BODY_BYTES);
      let result;
      try {
        result = await runtime.events.ingest.ingest(auth.environment.id, signal, records);
      } catch (error) {
        if (error instanceof EventStoreOverloadedError) throw withResponseFields(error, { headers: { "retry-after": "1" } });
        throw error;
      }
      const { message, rejectedField } = RESPONSES[signal];
      const partial =
        result.rejected > 0
          ? { partialSuccess: { [rejectedField]: result.rejected, errorMessage: `dropped: ${JSON.stringify(result.reasons)}` } }
          : {};
      if ((contentType ?? "").includes("json")) return Response.json(partial);
      const bytes = message.encode(message.fromObject(partial)).finish();
      return new Response(Buffer.from(bytes), { status: 200, headers: { "content-type": "application/x-protobuf" } });
    },
  });
}

/**
 * `POST /otel/v1/metrics`: the trigger.dev task runtime exports metrics too. Runplane keeps no task
 * metrics; the export is authenticated and answered with an empty success so the exporter stays quiet.
 */
export function otlpMetricsAction() {
  return apiAction({}, {
    POST: async ({ request }) => {
      await readBodyBytes(request, OTLP_MAX_BODY_BYTES);
      if ((request.headers.get("content-type") ?? "").includes("json")) return Response.json({});
      const message = proto.metrics.v1.ExportMetricsServiceResponse as ResponseMessage;
      return new Response(Buffer.from(message.encode(message.fromObject({})).finish()), { status: 200, headers: { "content-type": "application/x-protobuf" } });
    },
  });
}
