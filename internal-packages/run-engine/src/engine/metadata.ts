import { type TaskRun, engineStore } from "@internal/run-store";
import { UnprocessableError, ValidationError } from "@runplane/core";
import { runIdOf } from "./core.js";
import { EnginePart } from "./enginePart.js";
import { MAX_METADATA_BYTES } from "./limits.js";
import { isFinalRunStatus } from "./statuses.js";

/** Run metadata updates. */
export class RunMetadata extends EnginePart {
  /** Replaces a run's metadata (≤ 256 KiB; optimistic on metadataVersion when given). Finished runs refuse. */
  async updateMetadata(runIdOrFriendly: string, input: { metadata: string; metadataType?: string; expectedVersion?: number }): Promise<TaskRun> {
    if (Buffer.byteLength(input.metadata, "utf8") > MAX_METADATA_BYTES) {
      throw new ValidationError(`Metadata exceeds the maximum size of ${MAX_METADATA_BYTES} bytes`);
    }
    const runId = runIdOf(runIdOrFriendly);
    const run = await this.core.lockRun(runId, async () => {
      const current = await this.core.requireRun(runId);
      if (isFinalRunStatus(current.status)) throw new UnprocessableError("Cannot update the metadata of a finished run");
      if (input.expectedVersion !== undefined && current.metadataVersion !== input.expectedVersion) {
        throw new UnprocessableError("Metadata was changed concurrently");
      }
      return engineStore.updateRunRow(this.core.store, runId, {
        metadata: input.metadata,
        metadataType: input.metadataType ?? "application/json",
        metadataVersion: { increment: 1 },
      });
    });
    this.eventBus.emit("runMetadataUpdated", {
      time: new Date(),
      run: { id: run.id, metadata: run.metadata, metadataType: run.metadataType },
      environment: { id: run.runtimeEnvironmentId },
    });
    return run;
  }
}
