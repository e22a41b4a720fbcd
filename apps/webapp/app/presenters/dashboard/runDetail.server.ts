import { engineStore, type TaskRun } from "@internal/run-store";
import { toFriendlyId } from "@runplane/core";
import { isFinalInternalStatus, toPublicRunStatus, type InternalRunStatus, type PublicRunStatus } from "@runplane/core/schemas";
import type { EnvironmentScope } from "~/services/dashboardAuth.server";
import type { Runtime } from "~/services/runtime.server";
import { runPacketForDisplay } from "./offloadedPacket.server";
import { durationBetween, packet, runErrorBlock, timestamp, type Packet, type Timestamp } from "./format";
import { batchPath, envPath, runPath } from "./paths";
import { findRunForDashboard } from "./runSource.server";

export type Property = { label: string; value: string | null; href?: string; mono?: boolean; time?: Timestamp };

export type SnapshotRow = {
  id: string;
  at: Timestamp;
  sincePrevious: string | null;
  executionStatus: string;
  runStatus: string;
  description: string;
  attemptNumber: number | null;
  isValid: boolean;
  error: string | null;
  workerId: string | null;
};

export type RunDetailPage = {
  friendlyId: string;
  taskIdentifier: string;
  status: PublicRunStatus;
  internalStatus: string;
  statusReason: string | null;
  isBuffered: boolean;
  isTest: boolean;
  isFinal: boolean;
  hasIdempotencyKey: boolean;
  canCancel: boolean;
  canReplay: boolean;
  runsHref: string;
  /** This run's page (its trace loads from `${runHref}/trace`). */
  runHref: string;
  overview: Property[];
  timing: Property[];
  execution: Property[];
  relations: Property[];
  tags: { tag: string; href: string }[];
  payload: Packet;
  output: Packet;
  error: Packet;
  metadata: Packet;
  snapshots: SnapshotRow[];
  waitpoints: { friendlyId: string; type: string; status: string; completedAfter: Timestamp }[];
};

function time(label: string, date: Date | null | undefined, now: Date): Property {
  const t = timestamp(date, now);
  return { label, value: t?.label ?? null, time: t };
}

function runLink(scope: EnvironmentScope, label: string, internalId: string | null | undefined): Property {
  if (!internalId) return { label, value: null };
  const friendlyId = toFriendlyId("run", internalId);
  return { label, value: friendlyId, href: runPath(scope, friendlyId), mono: true };
}

/** The run page: the run row shaped for reading, its execution snapshots and what it waits on. Null when not in this environment. */
export async function presentRunDetail(
  runtime: Pick<Runtime, "runStore" | "packets">,
  scope: EnvironmentScope,
  friendlyId: string,
  now: Date = new Date()
): Promise<RunDetailPage | null> {
  const found = await findRunForDashboard(scope.environment.id, friendlyId);
  if (!found) return null;
  const { run, isBuffered } = found;
  const [snapshots, edges] = isBuffered
    ? [[], []]
    : await Promise.all([engineStore.listSnapshots(runtime.runStore, run.id), engineStore.listBlockingEdges(runtime.runStore, run.id)]);

  const final = isFinalInternalStatus(run.status as InternalRunStatus);
  const started = run.startedAt ?? run.executedAt;
  const base = envPath(scope);

  return {
    friendlyId: run.friendlyId,
    taskIdentifier: run.taskIdentifier,
    status: toPublicRunStatus(run.status),
    internalStatus: run.status,
    statusReason: run.statusReason,
    isBuffered,
    isTest: run.isTest,
    isFinal: final,
    hasIdempotencyKey: run.idempotencyKey !== null,
    canCancel: !final,
    canReplay: true,
    runsHref: `${base}/runs`,
    runHref: runPath(scope, run.friendlyId),
    overview: overview(run, scope),
    timing: [
      time("Created", run.createdAt, now),
      time("Delayed until", run.delayUntil, now),
      time("Queued", run.queuedAt, now),
      time("Started", started, now),
      time("Completed", run.completedAt, now),
      time("Expired", run.expiredAt, now),
      { label: "Duration", value: started ? durationBetween(started, final ? (run.completedAt ?? run.updatedAt) : null, now) : null },
      { label: "Usage", value: run.usageDurationMs > 0 ? `${run.usageDurationMs} ms` : null },
    ],
    execution: [
      { label: "Attempts", value: `${run.attemptNumber ?? 0}${run.maxAttempts ? ` of ${run.maxAttempts}` : ""}` },
      { label: "Queue", value: run.queue, mono: true, href: `${base}/queues` },
      { label: "Concurrency key", value: run.concurrencyKey, mono: true },
      { label: "Worker queue", value: run.workerQueue, mono: true },
      { label: "Priority", value: run.priorityMs ? `${run.priorityMs / 1000}s` : null },
      { label: "TTL", value: run.ttl },
      { label: "Max duration", value: run.maxDurationInSeconds ? `${run.maxDurationInSeconds}s` : null },
      { label: "Machine", value: run.machinePreset },
      { label: "Version", value: run.taskVersion, mono: true },
      { label: "SDK version", value: run.sdkVersion, mono: true },
    ],
    relations: [
      runLink(scope, "Parent run", run.parentTaskRunId),
      runLink(scope, "Root run", run.rootTaskRunId),
      run.batchId
        ? { label: "Batch", value: toFriendlyId("batch", run.batchId), href: batchPath(scope, toFriendlyId("batch", run.batchId)), mono: true }
        : { label: "Batch", value: null },
      run.replayedFromTaskRunFriendlyId
        ? { label: "Replayed from", value: run.replayedFromTaskRunFriendlyId, href: runPath(scope, run.replayedFromTaskRunFriendlyId), mono: true }
        : { label: "Replayed from", value: null },
    ],
    tags: run.runTags.map((tag) => ({ tag, href: `${base}/runs?tag=${encodeURIComponent(tag)}` })),
    payload: await runPacketForDisplay(runtime.packets, run, "payload"),
    output: await runPacketForDisplay(runtime.packets, run, "output"),
    error: runErrorBlock(run.error),
    metadata: packet(run.metadata, run.metadataType),
    snapshots: snapshots.map((s, i): SnapshotRow => ({
      id: s.id,
      at: timestamp(s.createdAt, now),
      sincePrevious: i === 0 ? null : durationBetween(snapshots[i - 1].createdAt, s.createdAt, now),
      executionStatus: s.executionStatus,
      runStatus: s.runStatus,
      description: s.description,
      attemptNumber: s.attemptNumber,
      isValid: s.isValid,
      error: s.error,
      workerId: s.workerId,
    })),
    waitpoints: edges.map((e) => ({
      friendlyId: e.waitpoint.friendlyId,
      type: e.waitpoint.type,
      status: e.waitpoint.status,
      completedAfter: timestamp(e.waitpoint.completedAfter, now),
    })),
  };
}

function overview(run: TaskRun, scope: EnvironmentScope): Property[] {
  return [
    { label: "Run ID", value: run.friendlyId, mono: true },
    { label: "Task", value: run.taskIdentifier, mono: true, href: `${envPath(scope)}/runs?task=${encodeURIComponent(run.taskIdentifier)}` },
    { label: "Status", value: run.statusReason ? `${run.status} (${run.statusReason})` : run.status, mono: true },
    { label: "Environment", value: `${scope.environment.slug}` },
    { label: "Idempotency key", value: run.idempotencyKey, mono: true },
    {
      label: "Idempotency key expires",
      value: run.idempotencyKeyExpiresAt ? (timestamp(run.idempotencyKeyExpiresAt)?.label ?? null) : null,
    },
    { label: "Test run", value: run.isTest ? "yes" : null },
  ];
}
