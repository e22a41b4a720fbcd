import type { RunStore } from "@internal/run-store";
import type { MintKind } from "@runplane/core";
import type { Env } from "~/env.server";
import type { ObjectStore } from "./objectStore.server";
import { PacketService } from "./packetService.server";
import { PacketUrlSigner } from "./packetUrls.server";
import { PostgresObjectStore } from "./postgresObjectStore.server";
import { S3ObjectStore } from "./s3ObjectStore.server";

/** S3 when OBJECT_STORE_URL is set, else Postgres chunks beside the runs. */
export function createPacketService(env: Env, runStore: RunStore, mintKind: MintKind): PacketService {
  const store: ObjectStore = env.OBJECT_STORE_URL
    ? new S3ObjectStore({
        endpoint: env.OBJECT_STORE_URL,
        bucket: env.OBJECT_STORE_BUCKET,
        region: env.OBJECT_STORE_REGION,
        accessKeyId: env.OBJECT_STORE_ACCESS_KEY_ID!,
        secretAccessKey: env.OBJECT_STORE_SECRET_ACCESS_KEY!,
      })
    : new PostgresObjectStore(runStore);
  return new PacketService({ store, signer: new PacketUrlSigner(env.SESSION_SECRET, env.APP_ORIGIN), runStore, mintKind });
}
