/**
 * Production (and development) HTTP entry: `node --import tsx server.ts`.
 *
 * Loads the Remix server build (Vite's dev server in development), calls the `boot` it exports
 * (environment, split sentinels, services, bootstrap, background workers — see
 * app/services/boot.server.ts), then serves static assets and Remix requests with Express. The
 * booted services reach loaders and actions as `context.runtime`.
 */
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createRequestHandler } from "@remix-run/express";
import type { ServerBuild } from "@remix-run/node";
import express from "express";
import type { BootedApp } from "./app/services/boot.server";

type BootableBuild = ServerBuild & { entry: { module: { boot: () => Promise<BootedApp> } } };

const root = path.dirname(fileURLToPath(import.meta.url));
const production = process.env.NODE_ENV === "production";

async function main(): Promise<void> {
  const vite = production
    ? undefined
    : await import("vite").then((v) => v.createServer({ root, server: { middlewareMode: true } }));

  const loadBuild = async (): Promise<BootableBuild> =>
    vite
      ? ((await vite.ssrLoadModule("virtual:remix/server-build")) as BootableBuild)
      : ((await import(pathToFileURL(path.join(root, "build/server/index.js")).href)) as BootableBuild);

  const build = await loadBuild();
  if (typeof build.entry.module.boot !== "function") {
    throw new Error("The server build does not export boot(); is app/entry.server.tsx intact?");
  }
  const app = await build.entry.module.boot();

  const server = express();
  server.disable("x-powered-by");
  if (vite) {
    server.use(vite.middlewares);
  } else {
    server.use("/assets", express.static(path.join(root, "build/client/assets"), { immutable: true, maxAge: "1y" }));
    server.use(express.static(path.join(root, "build/client"), { maxAge: "1h" }));
  }
  // Every /api/ request spends a token of its environment's bucket (exemptions: apiRateLimit.server.ts).
  // Redis trouble fails open: the limiter protects the service, it must not take it down.
  server.use("/api/", (req, res, next) => {
    const path = req.originalUrl.split("?")[0] ?? req.originalUrl;
    app
      .rateLimitApiRequest(path, req.headers.authorization)
      .then((result) => {
        for (const [name, value] of Object.entries(result.headers)) res.setHeader(name, value);
        if (result.limited) {
          res.status(result.status).json(result.body);
          return;
        }
        next();
      })
      .catch((error: unknown) => {
        app.runtime.logger.warn("rate limiter unavailable; request allowed", { error: error instanceof Error ? error.message : String(error) });
        next();
      });
  });
  // Signed packet URLs: a plain handler (exact Content-Type, streamed body); see packetObjectHandler.server.ts.
  server.use("/packet-objects", (req, res) => void app.handlePacketObject(req, res));
  server.all(
    "*",
    createRequestHandler({
      build: vite ? loadBuild : build,
      mode: production ? "production" : "development",
      getLoadContext: () => ({ runtime: app.runtime }),
    })
  );

  const httpServer = server.listen(app.env.PORT, () => app.onListening(httpServer));
  httpServer.on("error", async (error) => {
    process.stderr.write(`\nRunplane could not listen on port ${app.env.PORT}: ${error.message}\n\n`);
    await app.shutdown().catch(() => {});
    process.exit(1);
  });
  if (vite) httpServer.on("close", () => void vite.close());
}

main().catch((error: unknown) => {
  // Configuration errors (bad variables, refused split) carry a complete message; others get a stack.
  const configuration = error instanceof Error && error.name.endsWith("Error") && "code" in error && "status" in error;
  const detail = error instanceof Error ? (configuration ? error.message : (error.stack ?? error.message)) : String(error);
  process.stderr.write(`\nRunplane refused to start: ${detail}\n\n`);
  process.exit(1);
});
