import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import type { ObjectStore, PacketObject } from "./objectStore.server";

export type S3ObjectStoreConfig = {
  /** The S3-compatible endpoint, e.g. http://127.0.0.1:9000 (path-style addressing). */
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
};

/** S3-compatible storage (OBJECT_STORE_*). Runplane still hands out its own signed URLs and streams through. */
export class S3ObjectStore implements ObjectStore {
  readonly kind = "s3";
  readonly #client: S3Client;

  constructor(private readonly config: S3ObjectStoreConfig) {
    this.#client = new S3Client({
      endpoint: config.endpoint,
      region: config.region,
      forcePathStyle: true,
      credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
    });
  }

  async put(key: string, object: PacketObject): Promise<void> {
    await this.#client.send(
      new PutObjectCommand({ Bucket: this.config.bucket, Key: key, Body: object.data, ContentType: object.contentType })
    );
  }

  async get(key: string): Promise<PacketObject | null> {
    try {
      const result = await this.#client.send(new GetObjectCommand({ Bucket: this.config.bucket, Key: key }));
      const bytes = await result.Body!.transformToByteArray();
      return { data: Buffer.from(bytes), contentType: result.ContentType ?? "application/json" };
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === "NoSuchKey") return null;
      throw error;
    }
  }

  async deleteEnvironments(environmentIds: string[]): Promise<number> {
    let deleted = 0;
    for (const environmentId of environmentIds) deleted += await this.#deleteListed(`${environmentId}/`, () => true);
    return deleted;
  }

  deleteOlderThan(before: Date): Promise<number> {
    return this.#deleteListed("", (modified) => modified !== undefined && modified < before);
  }

  /** Lists the bucket under `prefix`, page by page, and deletes the objects `select` picks by their last-modified time. */
  async #deleteListed(prefix: string, select: (lastModified: Date | undefined) => boolean): Promise<number> {
    let deleted = 0;
    let token: string | undefined;
    do {
      const page = await this.#client.send(new ListObjectsV2Command({ Bucket: this.config.bucket, Prefix: prefix || undefined, ContinuationToken: token }));
      const keys = (page.Contents ?? []).filter((item) => select(item.LastModified)).map((item) => ({ Key: item.Key! }));
      if (keys.length > 0) {
        await this.#client.send(new DeleteObjectsCommand({ Bucket: this.config.bucket, Delete: { Objects: keys } }));
        deleted += keys.length;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return deleted;
  }

  async close(): Promise<void> {
    this.#client.destroy();
  }
}
