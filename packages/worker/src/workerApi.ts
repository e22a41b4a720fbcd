import type { HttpClient } from "./http.js";
import {
  WorkerCompleteAttemptResponse,
  WorkerContinueResponse,
  WorkerDequeueResponse,
  WorkerHeartbeatResponse,
  WorkerRegisterResponse,
  WorkerStartAttemptResponse,
  WorkerWaitResponse,
  type WorkerAttemptCompletion,
  type WorkerDequeueRequest,
  type WorkerRegisterRequest,
} from "./protocol.js";

/** Slack added to a long-poll's own wait before the client gives up on the connection. */
const LONG_POLL_SLACK_MS = 15_000;
const CALL_TIMEOUT_MS = 30_000;

function runPath(runId: string, snapshotId: string, rest: string): string {
  return `/api/v1/worker/runs/${encodeURIComponent(runId)}/snapshots/${encodeURIComponent(snapshotId)}/${rest}`;
}

/** The worker protocol, one method per route (apps/webapp/docs/worker-protocol.md). */
export class WorkerApi {
  constructor(private readonly http: HttpClient) {}

  register(body: WorkerRegisterRequest, signal?: AbortSignal) {
    return this.http.request({
      method: "POST",
      path: "/api/v1/worker/register",
      body,
      schema: WorkerRegisterResponse,
      signal,
      attempts: 5,
      timeoutMs: CALL_TIMEOUT_MS,
    });
  }

  /** One try only: a lost answer may hold dequeued runs, and the caller backs off itself. */
  dequeue(body: WorkerDequeueRequest, signal?: AbortSignal) {
    return this.http.request({
      method: "POST",
      path: "/api/v1/worker/dequeue",
      body,
      schema: WorkerDequeueResponse,
      signal,
      attempts: 1,
      timeoutMs: body.waitMs + LONG_POLL_SLACK_MS,
    });
  }

  startAttempt(runId: string, snapshotId: string, signal?: AbortSignal) {
    return this.http.request({
      method: "POST",
      path: runPath(runId, snapshotId, "attempts/start"),
      body: {},
      schema: WorkerStartAttemptResponse,
      signal,
      attempts: 3,
      timeoutMs: CALL_TIMEOUT_MS,
    });
  }

  heartbeat(runId: string, snapshotId: string, signal?: AbortSignal) {
    return this.http.request({
      method: "POST",
      path: runPath(runId, snapshotId, "heartbeat"),
      body: {},
      schema: WorkerHeartbeatResponse,
      signal,
      attempts: 2,
      timeoutMs: 10_000,
    });
  }

  completeAttempt(runId: string, snapshotId: string, completion: WorkerAttemptCompletion, signal?: AbortSignal) {
    return this.http.request({
      method: "POST",
      path: runPath(runId, snapshotId, "attempts/complete"),
      body: { completion },
      schema: WorkerCompleteAttemptResponse,
      signal,
      // about 30 s of retries: a completion must outlive a database restart, and stay inside the
      // server's heartbeat timeout (60 s), after which the run would be retried elsewhere
      attempts: 10,
      timeoutMs: CALL_TIMEOUT_MS,
    });
  }

  waitForDuration(runId: string, snapshotId: string, date: Date, signal?: AbortSignal) {
    return this.http.request({
      method: "POST",
      path: runPath(runId, snapshotId, "wait/duration"),
      body: { date: date.toISOString() },
      schema: WorkerWaitResponse,
      signal,
      attempts: 3,
      timeoutMs: CALL_TIMEOUT_MS,
    });
  }

  waitForToken(runId: string, snapshotId: string, waitpointId: string, timeout?: Date, signal?: AbortSignal) {
    return this.http.request({
      method: "POST",
      path: runPath(runId, snapshotId, "wait/token"),
      body: timeout ? { waitpointId, timeout: timeout.toISOString() } : { waitpointId },
      schema: WorkerWaitResponse,
      signal,
      attempts: 3,
      timeoutMs: CALL_TIMEOUT_MS,
    });
  }

  continueRun(runId: string, snapshotId: string, waitMs: number, signal?: AbortSignal) {
    return this.http.request({
      method: "GET",
      path: runPath(runId, snapshotId, "continue"),
      query: { waitMs },
      schema: WorkerContinueResponse,
      signal,
      attempts: 1,
      timeoutMs: waitMs + LONG_POLL_SLACK_MS,
    });
  }
}
