import { otlpAction } from "~/v3/events/otlpRoute.server";

/** POST /otel/v1/traces — OTLP/HTTP spans (see v3/events/otlpRoute.server.ts). */
export const action = otlpAction("traces");
