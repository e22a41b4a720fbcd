import { test } from "vitest";
import { startTestServer, type TestServer } from "./serverProcess";

export { freePort, startTestServer, type TestServer, type TestServerOptions } from "./serverProcess";

/** vitest fixture: `serverTest("…", async ({ server }) => …)` gets a fresh single-database server. */
export const serverTest = test.extend<{ server: TestServer }>({
  server: async ({}, use) => {
    const server = await startTestServer();
    try {
      await use(server);
    } finally {
      await server.stop();
    }
  },
});

/** Same, with split mode on (control plane + run-ops databases, NEW run ids). */
export const splitServerTest = test.extend<{ server: TestServer }>({
  server: async ({}, use) => {
    const server = await startTestServer({ split: true });
    try {
      await use(server);
    } finally {
      await server.stop();
    }
  },
});
