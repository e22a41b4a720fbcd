import { logger, task } from "@runplane/worker";

export const resizeImage = task({
  id: "resize-image",
  queue: { concurrencyLimit: 5 },
  run: async (payload: { url: string; width: number }) => {
    if (!payload.url.startsWith("https://")) throw new Error(`not an https URL: ${payload.url}`);
    return { url: payload.url, width: payload.width, resizedUrl: `${payload.url}?w=${payload.width}` };
  },
});

/**
 * A parent that waits for child runs: one triggerAndWait, then a batch. A failed child comes back as
 * { ok: false, error }, it does not fail the parent. While it waits the parent frees its worker slot.
 */
export const processAlbum = task({
  id: "process-album",
  run: async (payload: { cover: string; photos: string[] }, { ctx }) => {
    const cover = await resizeImage.triggerAndWait({ url: payload.cover, width: 1200 });
    logger.info("cover done", { ok: cover.ok });

    const batch = await ctx.batchTriggerAndWait(
      "resize-image",
      payload.photos.map((url) => ({ payload: { url, width: 400 } })),
    );
    const thumbnails = batch.runs.map((r) => (r.ok ? r.output : { error: r.error.message }));
    return { cover: cover.ok ? cover.output : { error: cover.error.message }, batchId: batch.id, thumbnails };
  },
});
