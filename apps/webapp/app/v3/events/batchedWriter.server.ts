import { RunplaneError } from "@runplane/core";

/** The receiver's answer when the write queue is full: 503 with Retry-After, never an unbounded buffer. */
export class EventStoreOverloadedError extends RunplaneError {
  constructor() {
    super("event_store_overloaded", "The events store is overloaded; retry later", 503);
  }
}

type Pending<T> = { items: T[]; resolve: () => void; reject: (error: unknown) => void };

export type BatchedWriterOptions<T> = {
  /** Writes one batch (one multi-row insert per table). */
  flush: (items: T[]) => Promise<void>;
  /** A flush starts once this many items wait, or after `flushIntervalMs`. */
  batchSize: number;
  flushIntervalMs: number;
  /** Items queued (not yet committed) above which `write` refuses. */
  maxPending: number;
  /** Flushes in flight at once (each its own connection). Default 2. */
  concurrency?: number;
};

/**
 * Collects items from many concurrent callers into batches (at most `concurrency` flushes in flight), each
 * caller's promise settles when the batch holding its items commits (or fails).
 */
export class BatchedWriter<T> {
  private queue: Pending<T>[] = [];
  private queuedItems = 0;
  private inFlightItems = 0;
  private readonly flushing = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly options: BatchedWriterOptions<T>) {}

  get pending(): number {
    return this.queuedItems + this.inFlightItems;
  }

  write(items: T[]): Promise<void> {
    if (items.length === 0) return Promise.resolve();
    if (this.closed) return Promise.reject(new Error("The events store is closed"));
    if (this.pending + items.length > this.options.maxPending) return Promise.reject(new EventStoreOverloadedError());
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ items, resolve, reject });
      this.queuedItems += items.length;
      this.schedule();
    });
  }

  private get canFlush(): boolean {
    return this.flushing.size < (this.options.concurrency ?? 2);
  }

  private schedule(): void {
    if (!this.canFlush) return;
    if (this.queuedItems >= this.options.batchSize || this.flushing.size > 0) {
      // a full batch, or a flush already running (its latency is the batching window): write now
      this.startFlush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        if (this.canFlush) this.startFlush();
      }, this.options.flushIntervalMs);
    }
  }

  private startFlush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const batch: Pending<T>[] = [];
    let count = 0;
    while (this.queue.length > 0 && count < this.options.batchSize) {
      const next = this.queue.shift()!;
      batch.push(next);
      count += next.items.length;
    }
    if (batch.length === 0) return;
    this.queuedItems -= count;
    this.inFlightItems += count;
    const flush: Promise<void> = this.options
      .flush(batch.flatMap((p) => p.items))
      .then(
        () => batch.forEach((p) => p.resolve()),
        (error) => batch.forEach((p) => p.reject(error))
      )
      .finally(() => {
        this.inFlightItems -= count;
        this.flushing.delete(flush);
        // what arrived during this flush has waited long enough: write it now
        if (this.queue.length > 0 && this.canFlush) this.startFlush();
      });
    this.flushing.add(flush);
  }

  /** Flushes what is queued, then refuses new writes. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing.size > 0 || this.queue.length > 0) {
      if (this.queue.length > 0 && this.canFlush) this.startFlush();
      await Promise.race(this.flushing);
    }
  }
}
