import { schedules } from "@trigger.dev/sdk";

/** A declarative schedule: registering the worker creates it (03:00 in Europe/London, every day). */
export const nightlyDigest = schedules.task({
  id: "nightly-digest",
  cron: { pattern: "0 3 * * *", timezone: "Europe/London" },
  run: async (payload) => {
    return { tick: payload.timestamp.toISOString(), timezone: payload.timezone };
  },
});
