import type { LoaderFunctionArgs } from "@remix-run/node";
import { json, redirect } from "@remix-run/node";
import { Form } from "@remix-run/react";
import { adminRunPath } from "~/presenters/dashboard/paths";
import { requireAdmin } from "~/services/dashboardAuth.server";

/** The debug-run lookup form; `?id=` goes to /admin/runs/:id. */
export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireAdmin(context.runtime, request);
  const id = new URL(request.url).searchParams.get("id")?.trim();
  if (id) throw redirect(adminRunPath(id));
  return json({});
}

export default function AdminRunLookup() {
  return (
    <>
      <div className="page-header">
        <h1>Debug a run</h1>
      </div>
      <section className="card">
        <div className="card-body">
          <p className="muted" style={{ marginTop: 0 }}>
            Any run of any organisation, from whichever database holds it: the row, its snapshots and its state in the run
            queue.
          </p>
          <Form method="get" style={{ display: "flex", gap: 8 }}>
            <input type="search" name="id" placeholder="run_… or internal id" required style={{ flex: 1 }} aria-label="Run id" />
            <button type="submit" className="button primary">
              Debug
            </button>
          </Form>
        </div>
      </section>
    </>
  );
}
