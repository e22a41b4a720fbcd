import { createRequire } from "node:module";
import { gzipSync } from "node:zlib";
import { JsonLogsSerializer, JsonTraceSerializer, ProtobufLogsSerializer, ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from "@opentelemetry/sdk-logs";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../support/testServer";
import { api, MODES } from "./support/api";

const proto = createRequire(import.meta.url)("@opentelemetry/otlp-transformer/build/src/generated/root.js").opentelemetry.proto.collector;

const nowNs = () => (BigInt(Date.now()) * 1_000_000n).toString();
const kv = (key: string, value: string) => ({ key, value: { stringValue: value } });

function logsBody(runId: string, messages: string[], level = 9) {
  return {
    resourceLogs: [
      {
        resource: { attributes: [kv("ctx.run.id", runId), kv("service.name", "test")] },
        scopeLogs: [{ logRecords: messages.map((m) => ({ timeUnixNano: nowNs(), severityNumber: level, body: { stringValue: m }, attributes: [kv("k", "v")] })) }],
      },
    ],
  };
}

async function post(server: TestServer, signal: "logs" | "traces", body: Buffer | string, headers: Record<string, string>, key: string | null = server.devSecretKey) {
  const res = await fetch(`${server.baseUrl}/otel/v1/${signal}`, {
    method: "POST",
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
    body: typeof body === "string" ? body : new Uint8Array(body),
  });
  const buffer = Buffer.from(await res.arrayBuffer());
  return { status: res.status, buffer, json: () => JSON.parse(buffer.toString("utf8")) };
}

/** The OTLP/HTTP receiver over raw HTTP: encodings, auth, attribution, and the trace reads that show what it stored. */
describe.each(MODES)("OTLP receiver ($mode)", ({ split }) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ split, env: { EVENT_RETENTION_INTERVAL_MS: "1000" } });
  }, 120_000);
  afterAll(async () => void (await server?.stop()), 60_000);

  async function trigger(taskId: string, key = server.devSecretKey): Promise<string> {
    const res = await api(server, "POST", `/api/v1/tasks/${taskId}/trigger`, { body: { payload: {} }, key });
    expect(res.status).toBe(200);
    return res.body.id;
  }

  async function eventMessages(runId: string, key = server.devSecretKey): Promise<string[]> {
    const res = await api(server, "GET", `/api/v1/runs/${runId}/events`, { key });
    expect(res.status).toBe(200);
    return res.body.events.map((e: { message: string }) => e.message);
  }

  test("JSON, protobuf and gzip bodies are stored on the run they name", async () => {
    const runId = await trigger("otel-target");
    const json = await post(server, "logs", JSON.stringify(logsBody(runId, ["json line"])), { "content-type": "application/json" });
    expect(json.status).toBe(200);
    expect(json.json()).toEqual({});

    const Request = proto.logs.v1.ExportLogsServiceRequest;
    const message = Request.fromObject({
      resourceLogs: [
        {
          resource: { attributes: [kv("ctx.run.id", runId)] },
          scopeLogs: [{ logRecords: [{ timeUnixNano: nowNs(), severityNumber: 17, body: { stringValue: "protobuf line" } }] }],
        },
      ],
    });
    const bytes = Buffer.from(Request.encode(message).finish());
    const protobuf = await post(server, "logs", bytes, { "content-type": "application/x-protobuf" });
    expect(protobuf.status).toBe(200);
    expect(protobuf.buffer.length).toBe(0); // an empty ExportLogsServiceResponse: nothing rejected

    const gz = await post(server, "logs", gzipSync(JSON.stringify(logsBody(runId, ["gzip line"]))), { "content-type": "application/json", "content-encoding": "gzip" });
    expect(gz.status).toBe(200);

    const TraceRequest = proto.trace.v1.ExportTraceServiceRequest;
    const span = TraceRequest.encode(
      TraceRequest.fromObject({
        resourceSpans: [
          {
            resource: { attributes: [kv("ctx.run.id", runId)] },
            scopeSpans: [
              {
                spans: [
                  {
                    traceId: Buffer.alloc(16, 1),
                    spanId: Buffer.alloc(8, 2),
                    name: "user span",
                    startTimeUnixNano: nowNs(),
                    endTimeUnixNano: nowNs(),
                    status: { code: 2, message: "boom" },
                  },
                ],
              },
            ],
          },
        ],
      })
    ).finish();
    expect((await post(server, "traces", gzipSync(Buffer.from(span)), { "content-type": "application/x-protobuf", "content-encoding": "gzip" })).status).toBe(200);

    const messages = await eventMessages(runId);
    expect(messages).toEqual(expect.arrayContaining(["json line", "protobuf line", "gzip line", "user span"]));
    const events = (await api(server, "GET", `/api/v1/runs/${runId}/events`)).body.events as Array<{ message: string; level: string; isError: boolean; spanId: string }>;
    expect(events.find((e) => e.message === "protobuf line")?.level).toBe("ERROR");
    const userSpan = events.find((e) => e.message === "user span")!;
    expect(userSpan.isError).toBe(true);
    expect(userSpan.spanId).toBe("0202020202020202");

    const detail = await api(server, "GET", `/api/v1/runs/${runId}/spans/${userSpan.spanId}`);
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({ spanId: userSpan.spanId, runId, message: "user span", isError: true });
    expect((await api(server, "GET", `/api/v1/runs/${runId}/spans/ffffffffffffffff`)).status).toBe(404);

    const trace = await api(server, "GET", `/api/v1/runs/${runId}/trace`);
    expect(trace.status).toBe(200);
    expect(trace.body.trace.rootSpan).toMatchObject({ runId, data: { message: "otel-target", isPartial: true } });
  });

  test("what OpenTelemetry's own SDK exporters send (trigger.dev's task runtime uses them) is stored, JSON and protobuf", async () => {
    const runId = await trigger("otel-sdk");
    const resource = resourceFromAttributes({ "ctx.run.id": runId, "service.name": "task" });
    const spans = new InMemorySpanExporter();
    const tracer = new BasicTracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor(spans)] }).getTracer("test");
    const span = tracer.startSpan("sdk span", { attributes: { "ctx.attempt.number": 1, ratio: 0.5, list: ["a", "b"] } });
    span.setStatus({ code: 2, message: "failed" });
    span.end();
    const logs = new InMemoryLogRecordExporter();
    new LoggerProvider({ resource, processors: [new SimpleLogRecordProcessor(logs)] })
      .getLogger("test")
      .emit({ severityNumber: 13, severityText: "WARN", body: "sdk warning", attributes: { k: "v" } });

    const sends: Array<[signal: "logs" | "traces", body: Uint8Array | undefined, type: string]> = [
      ["traces", JsonTraceSerializer.serializeRequest(spans.getFinishedSpans()), "application/json"],
      ["traces", ProtobufTraceSerializer.serializeRequest(spans.getFinishedSpans()), "application/x-protobuf"],
      ["logs", JsonLogsSerializer.serializeRequest(logs.getFinishedLogRecords()), "application/json"],
      ["logs", ProtobufLogsSerializer.serializeRequest(logs.getFinishedLogRecords()), "application/x-protobuf"],
    ];
    for (const [signal, body, type] of sends) {
      expect((await post(server, signal, Buffer.from(body!), { "content-type": type })).status).toBe(200);
    }
    const events = (await api(server, "GET", `/api/v1/runs/${runId}/events`)).body.events as Array<{ message: string; level: string; isError: boolean; properties: Record<string, unknown> }>;
    const stored = events.filter((e) => e.message === "sdk span");
    expect(stored.length).toBe(1); // the same span twice: one version kept
    expect(stored[0]).toMatchObject({ isError: true, properties: { ratio: 0.5, list: ["a", "b"], "ctx.attempt.number": 1 } });
    const warnings = events.filter((e) => e.message === "sdk warning");
    expect(warnings.map((w) => w.level)).toEqual(["WARN", "WARN"]);
  });

  test("bad bodies are 400, a wrong or missing key 401, an unknown media type 415; nothing is stored", async () => {
    const runId = await trigger("otel-bad");
    const bad = [
      await post(server, "logs", "{not json", { "content-type": "application/json" }),
      await post(server, "logs", JSON.stringify({ resourceLogs: "nope" }), { "content-type": "application/json" }),
      await post(server, "logs", Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]), { "content-type": "application/x-protobuf" }),
      await post(server, "logs", Buffer.from("not gzip"), { "content-type": "application/json", "content-encoding": "gzip" }),
      await post(server, "traces", JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: "xyz", spanId: "1" }] }] }] }), { "content-type": "application/json" }),
    ];
    for (const res of bad) {
      expect(res.status).toBe(400);
      expect(typeof res.json().error).toBe("string");
    }
    expect((await post(server, "logs", "x", { "content-type": "text/plain" })).status).toBe(415);
    expect((await post(server, "logs", JSON.stringify(logsBody(runId, ["no"])), { "content-type": "application/json" }, "tr_dev_wrongwrongwrong")).status).toBe(401);
    expect((await post(server, "logs", JSON.stringify(logsBody(runId, ["no"])), { "content-type": "application/json" }, null)).status).toBe(401);
    expect(await eventMessages(runId)).not.toContain("no");
  });

  test("a record naming another environment's run (or no run) is dropped and counted; that run's trace is a 404 here", async () => {
    const devRun = await trigger("otel-isolated");
    const res = await post(server, "logs", JSON.stringify(logsBody(devRun, ["from prod"])), { "content-type": "application/json" }, server.prodSecretKey);
    expect(res.status).toBe(200);
    expect(res.json().partialSuccess.rejectedLogRecords).toBe(1);
    const noRun = { resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: nowNs(), body: { stringValue: "orphan" } }] }] }] };
    expect((await post(server, "logs", JSON.stringify(noRun), { "content-type": "application/json" })).json().partialSuccess.rejectedLogRecords).toBe(1);
    expect(await eventMessages(devRun)).not.toContain("from prod");
    expect((await api(server, "GET", `/api/v1/runs/${devRun}/trace`, { key: server.prodSecretKey })).status).toBe(404);
    expect((await api(server, "GET", `/api/v1/runs/${devRun}/events`, { key: server.prodSecretKey })).status).toBe(404);
  });

  test("retention drops an expired day partition and keeps today's", async () => {
    const url = split ? server.runOpsDatabaseUrl! : server.databaseUrl;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const old = new Date(Date.now() - 30 * 86_400_000);
      const day = old.toISOString().slice(0, 10);
      const name = `RunLog_p${day.replaceAll("-", "")}`;
      const next = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString();
      await client.query(`CREATE TABLE "${name}" PARTITION OF "RunLog" FOR VALUES FROM ('${day}T00:00:00Z') TO ('${next}')`);
      await client.query(`INSERT INTO "RunLog" ("environmentId","runId","traceId","time","level","message") VALUES ('e','run_x','t',$1,'info','old')`, [old]);
      const runId = await trigger("otel-retention");
      expect((await post(server, "logs", JSON.stringify(logsBody(runId, ["fresh"])), { "content-type": "application/json" })).status).toBe(200);
      const deadline = Date.now() + 20_000;
      for (;;) {
        const { rows } = await client.query(`SELECT 1 FROM pg_class WHERE relname = $1`, [name]);
        if (rows.length === 0) break;
        if (Date.now() > deadline) throw new Error(`partition ${name} was not dropped`);
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(await eventMessages(runId)).toContain("fresh");
    } finally {
      await client.end();
    }
  });
});
