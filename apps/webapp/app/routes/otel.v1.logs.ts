import { otlpAction } from "~/v3/events/otlpRoute.server";

/** POST /otel/v1/logs — OTLP/HTTP log records (see v3/events/otlpRoute.server.ts). */
export const action = otlpAction("logs");
