import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.RUN_OPS_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/runplane_run_ops" },
});
