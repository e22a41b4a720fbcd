import { startTestServer } from "./support/serverProcess";
const server = await startTestServer({ env: { LOG_LEVEL: "warn" } });
try {
  const res = await fetch(`${server.baseUrl}/api/v1/tasks/x/trigger`, { method: "POST", headers: { authorization: `Bearer ${server.devSecretKey}`, "content-type": "application/json" }, body: JSON.stringify({ payload: {} }) });
  const runId = ((await res.json()) as any).id;
  for (const n of [1, 10, 100, 500]) {
    const base = BigInt(Date.now()) * 1_000_000n;
    const body = JSON.stringify({ resourceLogs: [{ resource: { attributes: [{ key: "ctx.run.id", value: { stringValue: runId } }] }, scopeLogs: [{ logRecords: Array.from({ length: n }, (_, j) => ({ timeUnixNano: String(base + BigInt(j)), severityNumber: 9, body: { stringValue: `line ${j}` } })) }] }] });
    for (let k = 0; k < 3; k++) {
      const t = performance.now();
      const r = await fetch(`${server.baseUrl}/otel/v1/logs`, { method: "POST", headers: { authorization: `Bearer ${server.devSecretKey}`, "content-type": "application/json" }, body });
      await r.text();
      console.log(n, r.status, (performance.now() - t).toFixed(1));
    }
  }
  const t = performance.now();
  const h = await fetch(`${server.baseUrl}/healthcheck`); await h.text(); console.log("health", (performance.now() - t).toFixed(1));
} finally { await server.stop(); }
