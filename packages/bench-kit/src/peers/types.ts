/** One job-queue library under test, behind the few calls the peer scenarios need. */
export interface PeerQueue {
  /** "graphile-worker 0.18.0". */
  readonly label: string;
  /** Enqueue one job (the library's single add). */
  add(payload: Record<string, unknown>): Promise<void>;
  /** Enqueue many jobs in one call (used only to pre-fill a backlog). */
  addMany(payloads: Record<string, unknown>[]): Promise<void>;
  /** Start processing with `concurrency` jobs at once; `handler` is the no-op task body. */
  startWorker(concurrency: number, handler: (payload: Record<string, unknown>) => void): Promise<void>;
  stopWorker(): Promise<void>;
  /** Jobs neither finished nor failed (a drain is over at 0). */
  pending(): Promise<number>;
  /** Deletes every queued job (between scenarios). */
  clear(): Promise<void>;
  /** Stops everything and removes the database or Redis keys this peer created. */
  close(): Promise<void>;
}
