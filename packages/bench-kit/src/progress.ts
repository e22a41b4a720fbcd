/**
 * Progress sampling: call async probes ("count of TaskRun rows", "buffer depth", "Redis used
 * memory") every N ms and keep a time series. A tick is skipped while the previous one is still
 * running, so a slow probe never piles up. A probe that throws records NaN for that tick.
 */

export type Probe = () => Promise<number> | number;

export interface ProgressPoint {
  /** Seconds since start(). */
  t: number;
  /** Epoch ms. */
  at: number;
  values: Record<string, number>;
}

export interface ProgressSamplerOptions {
  probes: Record<string, Probe>;
  /** Default 500 ms. */
  intervalMs?: number;
  /** Called after each sample (e.g. to print progress). */
  onSample?: (p: ProgressPoint) => void;
}

export interface SeriesPoint {
  x: number;
  y: number;
}

export class ProgressSampler {
  readonly points: ProgressPoint[] = [];
  private readonly probes: [string, Probe][];
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | null = null;
  private busy: Promise<void> | null = null;
  private startedAt = 0;
  private waiters: { test: (p: ProgressPoint) => boolean; resolve: (p: ProgressPoint) => void }[] = [];
  private errorCount = 0;

  constructor(private readonly opts: ProgressSamplerOptions) {
    this.probes = Object.entries(opts.probes);
    this.intervalMs = opts.intervalMs ?? 500;
  }

  /** Start sampling (takes one sample right away). */
  start(): this {
    if (this.timer) return this;
    this.startedAt = Date.now();
    this.tick();
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    return this;
  }

  /** Stop; waits for a running sample, then takes a final one. Returns all points. */
  async stop(): Promise<ProgressPoint[]> {
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = null;
      if (this.busy) await this.busy;
      await this.sampleOnce();
    }
    return this.points;
  }

  get errors(): number {
    return this.errorCount;
  }

  /** Take one sample now (also usable without start()). */
  async sampleOnce(): Promise<ProgressPoint> {
    if (this.startedAt === 0) this.startedAt = Date.now();
    const values: Record<string, number> = {};
    await Promise.all(
      this.probes.map(async ([name, probe]) => {
        try {
          values[name] = Number(await probe());
        } catch {
          this.errorCount++;
          values[name] = Number.NaN;
        }
      }),
    );
    const at = Date.now();
    const point: ProgressPoint = { t: Math.round(at - this.startedAt) / 1000, at, values };
    this.points.push(point);
    this.opts.onSample?.(point);
    this.waiters = this.waiters.filter((w) => {
      if (w.test(point)) {
        w.resolve(point);
        return false;
      }
      return true;
    });
    return point;
  }

  private tick(): void {
    if (this.busy) return;
    this.busy = this.sampleOnce().then(
      () => {
        this.busy = null;
      },
      () => {
        this.busy = null;
      },
    );
  }

  /**
   * Resolves with the first sample satisfying `test` (e.g. rows ≥ 100 000), or null after
   * `timeoutMs`. The sampler must be running.
   */
  waitFor(test: (values: Record<string, number>) => boolean, timeoutMs = 600_000): Promise<ProgressPoint | null> {
    const hit = this.points.find((p) => test(p.values));
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve) => {
      const waiter = {
        test: (p: ProgressPoint) => test(p.values),
        resolve: (p: ProgressPoint | null) => {
          clearTimeout(timer);
          resolve(p);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(null);
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** The raw series of one probe: x = seconds since start. */
  series(name: string): SeriesPoint[] {
    return this.points.filter((p) => Number.isFinite(p.values[name])).map((p) => ({ x: p.t, y: p.values[name] }));
  }

  /**
   * Rate of change per second of one probe (e.g. rows → drained/s), one point per sample
   * interval, placed at the interval's end. Negative rates are kept (e.g. a shrinking buffer).
   */
  rate(name: string, opts: { step?: boolean } = {}): SeriesPoint[] {
    return rateOf(this.series(name), opts);
  }

  /** Max of a probe over all samples (e.g. Redis peak memory). */
  peak(name: string): number {
    return this.series(name).reduce((m, p) => Math.max(m, p.y), Number.NEGATIVE_INFINITY);
  }
}

/**
 * Per-second rate of a cumulative series: one point per interval at its end, or with `step` two
 * points (interval start and end) so a chart draws the rate flat over the interval.
 */
export function rateOf(points: SeriesPoint[], opts: { step?: boolean } = {}): SeriesPoint[] {
  const out: SeriesPoint[] = [];
  for (let i = 1; i < points.length; i++) {
    const dt = points[i].x - points[i - 1].x;
    if (dt <= 0) continue;
    const y = (points[i].y - points[i - 1].y) / dt;
    if (opts.step) out.push({ x: points[i - 1].x, y });
    out.push({ x: points[i].x, y });
  }
  return out;
}

/** Probe: Redis `used_memory` in bytes, from any client with `info(section)` (ioredis, node-redis). */
export function redisUsedMemoryProbe(client: { info(section: string): Promise<string> }): Probe {
  return async () => {
    const text = await client.info("memory");
    const m = /^used_memory:(\d+)/m.exec(text);
    if (!m) throw new Error("no used_memory in INFO memory");
    return Number(m[1]);
  };
}

/**
 * Probe: a single number from SQL, e.g. `SELECT count(*) FROM "TaskRun"` or
 * `SELECT count(*) FROM pg_stat_activity WHERE state = 'active'`. `query` runs the SQL and
 * returns rows (pg: `(sql) => pool.query(sql).then((r) => r.rows)`; Prisma:
 * `(sql) => prisma.$queryRawUnsafe(sql)`). The first column of the first row is used.
 */
export function sqlNumberProbe(query: (sql: string) => Promise<readonly Record<string, unknown>[]>, sql: string): Probe {
  return async () => {
    const rows = await query(sql);
    const first = rows[0];
    if (!first) throw new Error("query returned no rows");
    const v = Object.values(first)[0];
    return typeof v === "bigint" ? Number(v) : Number(v);
  };
}
