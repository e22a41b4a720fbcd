import { otlpMetricsAction } from "~/v3/events/otlpRoute.server";

/** POST /otel/v1/metrics — accepted and not stored (see v3/events/otlpRoute.server.ts). */
export const action = otlpMetricsAction();
