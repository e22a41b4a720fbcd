import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { vitePlugin as remix } from "@remix-run/dev";
import { defineConfig } from "vite";

const packageJson = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8")) as {
  dependencies: Record<string, string>;
};

/**
 * Workspace packages are TypeScript source. The server build leaves them as bare imports and the
 * server runs under tsx (`node --import tsx server.ts`), so each package keeps its own dependencies
 * and the Prisma clients are never bundled.
 */
const workspacePackages = Object.entries(packageJson.dependencies)
  .filter(([, version]) => version.startsWith("workspace:"))
  .map(([name]) => name);

const isWorkspaceImport = (id: string) => workspacePackages.some((name) => id === name || id.startsWith(`${name}/`));

export default defineConfig(({ isSsrBuild }) => ({
  resolve: { alias: { "~": fileURLToPath(new URL("./app", import.meta.url)) } },
  ssr: { external: workspacePackages },
  // `ssr.external` covers the dev server; the server build needs the same as a Rollup external.
  build: isSsrBuild ? { rollupOptions: { external: isWorkspaceImport } } : {},
  plugins: [
    remix({
      future: {
        v3_fetcherPersist: true,
        v3_relativeSplatPath: true,
        v3_throwAbortReason: true,
      },
    }),
  ],
}));
