import { afterEach, beforeEach, expect, test } from "vitest";
import { createDrainerHandler } from "~/v3/mollifier/drainerHandler.server";
import { mollifyTrigger } from "~/v3/mollifier/mollify.server";
import { MollifierDrainer } from "@runplane/redis-worker/mollifier";
import { setupHarness, type Harness } from "./harness";

let h: Harness;
beforeEach(async () => {
  h = await setupHarness();
});
afterEach(async () => {
  await h?.close();
});

test("fairness across envs and orgs: light envs drain while a heavy env's backlog is still mostly waiting", async () => {
  const heavy = h.env;
  const sameOrgLight = await h.makeEnv();
  const otherOrgs = [await h.makeEnv({ newOrg: true }), await h.makeEnv({ newOrg: true })];
  const light = [sameOrgLight, ...otherOrgs];
  const deps = { buffer: h.mollifier.buffer, mintKind: "LEGACY" as const, logger: h.logger };
  for (let i = 0; i < 400; i++) await mollifyTrigger(deps, { trigger: h.trigger({}, heavy) });
  for (const env of light) for (let i = 0; i < 15; i++) await mollifyTrigger(deps, { trigger: h.trigger({}, env) });

  const replay = createDrainerHandler({ engine: h.engine, runStore: h.store, logger: h.logger });
  const doneAt = new Map<string, number[]>();
  const drainer = new MollifierDrainer({
    buffer: h.mollifier.buffer,
    handler: async (entry) => {
      await replay(entry);
      const list = doneAt.get(entry.envId) ?? [];
      list.push(Date.now());
      doneAt.set(entry.envId, list);
    },
    concurrency: 10,
    batchSize: 10,
  });
  const started = Date.now();
  while ((await h.mollifier.buffer.getDepth()) > 0 && Date.now() - started < 60_000) await drainer.runOnce();

  const lastLight = Math.max(...light.map((env) => Math.max(...doneAt.get(env.id)!)));
  const heavyDone = doneAt.get(heavy.id)!;
  const heavyBeforeLightFinished = heavyDone.filter((t) => t <= lastLight).length;
  // every light env finished while most of the heavy env's backlog was still buffered
  expect(light.every((env) => doneAt.get(env.id)!.length === 15)).toBe(true);
  expect(heavyDone).toHaveLength(400);
  expect(heavyBeforeLightFinished).toBeLessThan(400 * 0.5);
  console.log(`fairness: light envs done after ${lastLight - started} ms with ${heavyBeforeLightFinished}/400 heavy runs drained; heavy done after ${Math.max(...heavyDone) - started} ms`);
}, 90_000);
