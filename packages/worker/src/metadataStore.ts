import { applyOperation, applyOperations, assertRecord, compactOperations, parseKey } from "./metadataOps.js";
import type { MetadataOperation } from "./publicApi.js";

export type MetadataFlushFn = (operations: MetadataOperation[]) => Promise<Record<string, unknown>>;

/**
 * One attempt's metadata: a local view updated at once, and a queue of operations flushed in batches
 * (by a timer, on demand, and at the end of the attempt). A failed flush puts its operations back in
 * front of anything queued since, so nothing is lost or reordered.
 */
export class MetadataStore {
  private view: Record<string, unknown>;
  private queue: MetadataOperation[] = [];
  private inFlight: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    initial: Record<string, unknown> | undefined,
    private readonly flushFn: MetadataFlushFn,
    private readonly onFlushError: (error: unknown) => void = () => {},
  ) {
    this.view = structuredClone(initial ?? {});
  }

  get pendingOperations(): readonly MetadataOperation[] {
    return this.queue;
  }

  current(): Record<string, unknown> {
    return structuredClone(this.view);
  }

  get(key: string): unknown {
    const segments = parseKey(key);
    let node: unknown = this.view;
    for (const seg of segments) {
      if (typeof node !== "object" || node === null) return undefined;
      node = (node as Record<string | number, unknown>)[seg];
    }
    return node === undefined ? undefined : structuredClone(node);
  }

  enqueue(op: MetadataOperation): void {
    if (op.type === "update") assertRecord(op.value);
    else parseKey(op.key);
    if (this.closed) throw new Error("metadata can no longer be changed: the attempt has finished");
    this.view = applyOperation(this.view, op);
    this.queue = compactOperations([...this.queue, op]);
  }

  /** Starts the periodic flush. */
  startTimer(intervalMs: number): void {
    if (this.timer || intervalMs <= 0) return;
    this.timer = setInterval(() => {
      if (this.queue.length === 0 || this.inFlight) return;
      this.flush().catch(this.onFlushError);
    }, intervalMs);
    this.timer.unref();
  }

  /** Sends everything queued; resolves once it (and any flush already running) is done. */
  async flush(): Promise<void> {
    while (this.inFlight) await this.inFlight.catch(() => {});
    if (this.queue.length === 0) return;
    const ops = this.queue;
    this.queue = [];
    const run = (async () => {
      try {
        const server = await this.flushFn(ops);
        // The server's view wins; re-apply what was queued while the flush was on the wire.
        this.view = applyOperations(server, this.queue);
      } catch (error) {
        this.queue = compactOperations([...ops, ...this.queue]);
        throw error;
      }
    })();
    this.inFlight = run;
    try {
      await run;
    } finally {
      this.inFlight = null;
    }
  }

  /** Stops the timer, flushes what is left and refuses later writes. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    try {
      await this.flush();
    } finally {
      this.closed = true;
    }
  }
}
