import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { presentHome } from "~/presenters/home.server";

export const meta: MetaFunction = () => [{ title: "Runplane" }];

export async function loader({ context }: LoaderFunctionArgs) {
  return json(await presentHome(context.runtime));
}

export default function Index() {
  const home = useLoaderData<typeof loader>();
  return (
    <main>
      <h1>Runplane</h1>
      <p>Durable background runs. This instance is up.</p>
      <dl>
        <dt>Organisation</dt>
        <dd>{home.organization ?? "not bootstrapped"}</dd>
        <dt>Projects</dt>
        <dd>
          {home.projects.length === 0
            ? "none"
            : home.projects.map((p) => (
                <div key={p.externalRef}>
                  {p.name} <code>{p.externalRef}</code>
                </div>
              ))}
        </dd>
        <dt>Run-ops split</dt>
        <dd>{home.splitEnabled ? "on" : "off"}</dd>
      </dl>
      <p>
        <a href="/healthcheck">Health check</a>
      </p>
    </main>
  );
}
