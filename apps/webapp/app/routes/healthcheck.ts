import type { LoaderFunctionArgs } from "@remix-run/node";
import { runHealthChecks, runtimeHealthChecks } from "~/services/health.server";

/** 200 `{ ok: true, checks }` when every dependency answers; 503 `{ ok: false, failing, checks }` otherwise. */
export async function loader({ context }: LoaderFunctionArgs) {
  const report = await runHealthChecks(runtimeHealthChecks(context.runtime));
  return Response.json(report, { status: report.ok ? 200 : 503, headers: { "cache-control": "no-store" } });
}
