import { logger, schedules } from "@runplane/worker";

/**
 * A declarative schedule: registering this worker creates it (every day at 01:00 London time, DST
 * included); a later worker version without `cron` removes it. `payload.timestamp` is the tick.
 */
export const nightlyReport = schedules.task({
  id: "nightly-report",
  cron: { pattern: "0 1 * * *", timezone: "Europe/London" },
  run: async (payload) => {
    const day = payload.timestamp.toLocaleDateString("en-GB", { timeZone: payload.timezone });
    logger.info("building the nightly report", { day, previous: payload.lastTimestamp?.toISOString() ?? null });
    return { day, nextRuns: payload.upcoming.slice(0, 3).map((d) => d.toISOString()) };
  },
});
