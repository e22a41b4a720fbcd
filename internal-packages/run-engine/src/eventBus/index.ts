import { EventEmitter } from "node:events";
import type { TaskRunExecutionStatus, TaskRunStatus } from "@internal/run-store";

type Tenancy = { organization: { id: string }; project: { id: string }; environment: { id: string } };

export type EngineEvents = {
  runCreated: [{ time: Date; run: { id: string; friendlyId: string; status: TaskRunStatus; runTags: string[]; batchId: string | null; taskIdentifier: string } } & Tenancy];
  runStatusChanged: [{ time: Date; run: { id: string; status: TaskRunStatus; statusReason?: string | null; updatedAt: Date; createdAt: Date } } & Tenancy];
  runAttemptStarted: [{ time: Date; run: { id: string; status: TaskRunStatus; attemptNumber: number; executedAt: Date | null } } & Tenancy];
  runAttemptFailed: [
    { time: Date; run: { id: string; status: TaskRunStatus; attemptNumber: number; error: TaskRunErrorShape }; retryAt: Date | null } & Tenancy,
  ];
  runSucceeded: [
    { time: Date; run: { id: string; status: TaskRunStatus; output: string | null; outputType: string; completedAt: Date | null; attemptNumber: number | null; usageDurationMs: number } } & Tenancy,
  ];
  runFailed: [
    { time: Date; run: { id: string; status: TaskRunStatus; error: TaskRunErrorShape; completedAt: Date | null; attemptNumber: number | null; usageDurationMs: number } } & Tenancy,
  ];
  runCancelled: [
    { time: Date; run: { id: string; friendlyId: string; status: TaskRunStatus; error: TaskRunErrorShape; completedAt: Date | null; attemptNumber: number | null } } & Tenancy,
  ];
  runExpired: [{ time: Date; run: { id: string; status: TaskRunStatus; ttl: string | null; expiredAt: Date | null; completedAt: Date | null } } & Tenancy];
  waitpointCompleted: [
    { time: Date; waitpoint: { id: string; friendlyId: string; type: string; outputIsError: boolean; completedAt: Date | null }; blockedRunIds: string[]; environment: { id: string } },
  ];
  runMetadataUpdated: [{ time: Date; run: { id: string; metadata: string | null; metadataType: string } ; environment: { id: string } }];
  /** Tags added through the API (a row change without a snapshot). */
  runTagsUpdated: [{ time: Date; run: { id: string; tags: string[] }; environment: { id: string } }];
  /** Internal: every snapshot write (wakes long-polls). */
  executionSnapshotCreated: [{ time: Date; run: { id: string }; snapshot: { id: string; executionStatus: TaskRunExecutionStatus; description: string } }];
};

export type TaskRunErrorShape =
  | { type: "BUILT_IN_ERROR"; name: string; message: string; stackTrace?: string }
  | { type: "CUSTOM_ERROR"; raw: string }
  | { type: "STRING_ERROR"; raw: string }
  | { type: "INTERNAL_ERROR"; code: string; message?: string; stackTrace?: string };

export type EngineEventName = keyof EngineEvents;

/** A typed EventEmitter. Listener errors are caught and reported, never thrown into the engine. */
export class EngineEventBus {
  private readonly emitter = new EventEmitter({ captureRejections: false });

  constructor(private readonly onListenerError: (event: string, error: unknown) => void = () => {}) {
    this.emitter.setMaxListeners(1000);
  }

  on<E extends EngineEventName>(event: E, listener: (...args: EngineEvents[E]) => void | Promise<void>): () => void {
    const wrapped = (...args: EngineEvents[E]) => {
      try {
        const result = listener(...args);
        if (result && typeof (result as Promise<void>).catch === "function") {
          (result as Promise<void>).catch((error) => this.onListenerError(event, error));
        }
      } catch (error) {
        this.onListenerError(event, error);
      }
    };
    this.emitter.on(event, wrapped as (...args: unknown[]) => void);
    return () => this.emitter.off(event, wrapped as (...args: unknown[]) => void);
  }

  once<E extends EngineEventName>(event: E, listener: (...args: EngineEvents[E]) => void): () => void {
    const off = this.on(event, (...args) => {
      off();
      listener(...args);
    });
    return off;
  }

  emit<E extends EngineEventName>(event: E, ...args: EngineEvents[E]): void {
    this.emitter.emit(event, ...args);
  }

  removeAllListeners(): void {
    this.emitter.removeAllListeners();
  }
}
