import { Histogram } from "../histogram.js";
import type { LoadResult, SecondPoint, TagResult } from "./types.js";

interface SecondBucket {
  sent: number;
  ok: number;
  non2xx: number;
  errors: number;
  hist: Histogram;
}

interface TagBucket {
  sent: number;
  ok: number;
  non2xx: number;
  errors: number;
  hist: Histogram;
}

/** Collects outcomes of the measured phase. All times are performance.now() milliseconds. */
export class Recorder {
  readonly latency = new Histogram();
  readonly service = new Histogram();
  readonly lag = new Histogram();
  sent = 0;
  completed = 0;
  ok = 0;
  readonly non2xx = new Map<number, number>();
  readonly errors = new Map<string, number>();
  private readonly seconds: SecondBucket[] = [];
  private readonly tags = new Map<string, TagBucket>();
  private lastDone = 0;
  private frozen = false;

  constructor(readonly t0: number) {}

  private second(at: number): SecondBucket {
    const s = Math.max(0, Math.floor((at - this.t0) / 1000));
    while (this.seconds.length <= s) {
      this.seconds.push({ sent: 0, ok: 0, non2xx: 0, errors: 0, hist: new Histogram() });
    }
    return this.seconds[s];
  }

  private tag(tag: string): TagBucket {
    let b = this.tags.get(tag);
    if (!b) {
      b = { sent: 0, ok: 0, non2xx: 0, errors: 0, hist: new Histogram() };
      this.tags.set(tag, b);
    }
    return b;
  }

  /** Ignore everything reported from now on. */
  freeze(): void {
    this.frozen = true;
  }

  onSent(sentAt: number, intendedAt: number, tag: string | undefined, trackLag: boolean): void {
    if (this.frozen) return;
    this.sent++;
    this.second(sentAt).sent++;
    if (trackLag) this.lag.record(Math.max(0, sentAt - intendedAt));
    if (tag !== undefined) this.tag(tag).sent++;
  }

  onDone(
    intendedAt: number,
    sentAt: number,
    doneAt: number,
    status: number,
    ok: boolean,
    error: string | undefined,
    tag: string | undefined,
  ): void {
    if (this.frozen) return;
    this.completed++;
    if (doneAt > this.lastDone) this.lastDone = doneAt;
    // From the intended time when sent late (coordinated-omission correction); from the actual
    // send when the open loop sent it a fraction of a millisecond early (timer granularity).
    const latency = doneAt - Math.min(intendedAt, sentAt);
    this.latency.record(latency);
    this.service.record(doneAt - sentAt);
    const sec = this.second(doneAt);
    sec.hist.record(latency);
    const tb = tag !== undefined ? this.tag(tag) : undefined;
    tb?.hist.record(latency);
    if (status === 0) {
      const code = error ?? "error";
      this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
      sec.errors++;
      if (tb) tb.errors++;
    } else if (ok) {
      this.ok++;
      sec.ok++;
      if (tb) tb.ok++;
    } else {
      this.non2xx.set(status, (this.non2xx.get(status) ?? 0) + 1);
      sec.non2xx++;
      if (tb) tb.non2xx++;
    }
  }

  get lastDoneAt(): number {
    return this.lastDone;
  }

  build(
    base: Pick<LoadResult, "mode" | "url" | "connections" | "targetRate">,
    elapsedMs: number,
    notSent: number,
    abandoned: number,
    withLag: boolean,
  ): LoadResult {
    const secs = elapsedMs / 1000;
    const timeSeries: SecondPoint[] = this.seconds.map((b, t) => ({
      t,
      sent: b.sent,
      ok: b.ok,
      non2xx: b.non2xx,
      errors: b.errors,
      p50: b.hist.percentile(50),
      p99: b.hist.percentile(99),
      max: b.hist.max,
    }));
    const byTag: Record<string, TagResult> = {};
    for (const [tag, b] of [...this.tags.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
      byTag[tag] = { sent: b.sent, ok: b.ok, non2xx: b.non2xx, errors: b.errors, latency: b.hist.summary() };
    }
    const failed = this.completed - this.ok;
    const result: LoadResult = {
      ...base,
      startedAt: new Date(performance.timeOrigin + this.t0).toISOString(),
      elapsedMs: Math.round(elapsedMs),
      sent: this.sent,
      completed: this.completed,
      ok: this.ok,
      non2xx: Object.fromEntries([...this.non2xx.entries()].sort((a, b) => a[0] - b[0]).map(([k, v]) => [String(k), v])),
      errors: Object.fromEntries(this.errors),
      notSent,
      abandoned,
      acceptedPerSec: secs > 0 ? round1(this.ok / secs) : 0,
      sentPerSec: secs > 0 ? round1(this.sent / secs) : 0,
      errorRate: this.completed > 0 ? failed / this.completed : 0,
      latency: this.latency.summary(),
      serviceLatency: this.service.summary(),
      timeSeries,
      byTag,
    };
    if (withLag) result.sendLag = this.lag.summary();
    if (base.targetRate === undefined) delete result.targetRate;
    return result;
  }
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
