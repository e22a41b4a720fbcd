import { defineConfig } from "@trigger.dev/sdk";

// The project ref is the Runplane project's `externalRef`; `trigger.dev dev --project-ref` overrides it.
export default defineConfig({
  project: process.env.TRIGGER_PROJECT_REF ?? "proj_replacewithyourprojectref",
  dirs: ["./src/trigger"],
  maxDuration: 300,
  retries: {
    enabledInDev: true,
    default: { maxAttempts: 1 },
  },
});
