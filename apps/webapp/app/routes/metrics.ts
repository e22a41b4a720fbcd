import { renderPrometheus } from "~/services/metrics.server";

/** Prometheus scrape endpoint: every OpenTelemetry instrument of this process (no env/run ids). */
export async function loader(): Promise<Response> {
  const body = await renderPrometheus();
  return new Response(body, { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8", "cache-control": "no-store" } });
}
