/**
 * A log-linear latency histogram (HDR-style): values are kept in microseconds; below 256 µs every
 * value has its own bucket, above that each power of two is split into 128 linear sub-buckets, so
 * any reported percentile is within 1/128 (< 0.8 %) of the true value. Exact min, max and mean are
 * tracked on the side. Record in milliseconds (fractions allowed); read back in milliseconds.
 */

const SUB_BITS = 7;
const SUB_COUNT = 1 << SUB_BITS; // 128
const EXACT_LIMIT = SUB_COUNT * 2; // 256 µs: one bucket per µs below this

function indexOf(us: number): number {
  if (us < EXACT_LIMIT) return us;
  if (us >= 2 ** 31) return indexOfLarge(us);
  const shift = 31 - Math.clz32(us) - SUB_BITS; // us >= 256 → shift >= 1
  return shift * SUB_COUNT + (us >>> shift);
}

function indexOfLarge(us: number): number {
  const shift = Math.floor(Math.log2(us)) - SUB_BITS;
  return shift * SUB_COUNT + Math.floor(us / 2 ** shift);
}

/** Highest value (µs) that maps to bucket `i`. */
function upperOf(i: number): number {
  if (i < EXACT_LIMIT) return i;
  const shift = Math.floor(i / SUB_COUNT) - 1;
  const mantissa = i - shift * SUB_COUNT;
  return (mantissa + 1) * 2 ** shift - 1;
}

export interface HistogramSummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export class Histogram {
  private counts = new Float64Array(1024);
  private highestIndex = -1;
  count = 0;
  private sumUs = 0;
  private minUs = Number.POSITIVE_INFINITY;
  private maxUs = 0;

  /** Record one value in milliseconds (negative values are clamped to 0). */
  record(ms: number, times = 1): void {
    if (!Number.isFinite(ms)) return;
    const us = Math.max(0, Math.round(ms * 1000));
    const i = indexOf(us);
    if (i >= this.counts.length) {
      let n = this.counts.length;
      while (n <= i) n *= 2;
      const grown = new Float64Array(n);
      grown.set(this.counts);
      this.counts = grown;
    }
    this.counts[i] += times;
    if (i > this.highestIndex) this.highestIndex = i;
    this.count += times;
    this.sumUs += us * times;
    if (us < this.minUs) this.minUs = us;
    if (us > this.maxUs) this.maxUs = us;
  }

  /** Add every value of `other` into this histogram. */
  merge(other: Histogram): this {
    for (let i = 0; i <= other.highestIndex; i++) {
      const c = other.counts[i];
      if (c > 0) {
        if (i >= this.counts.length) {
          let n = this.counts.length;
          while (n <= i) n *= 2;
          const grown = new Float64Array(n);
          grown.set(this.counts);
          this.counts = grown;
        }
        this.counts[i] += c;
      }
    }
    this.highestIndex = Math.max(this.highestIndex, other.highestIndex);
    this.count += other.count;
    this.sumUs += other.sumUs;
    this.minUs = Math.min(this.minUs, other.minUs);
    this.maxUs = Math.max(this.maxUs, other.maxUs);
    return this;
  }

  /**
   * Value (ms) at percentile `p` (0–100), nearest-rank: the smallest recorded value such that at
   * least p % of all values are ≤ it. Reported as the bucket's highest value, clamped to the exact
   * min/max. 0 when empty.
   */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil((Math.min(100, Math.max(0, p)) / 100) * this.count));
    let seen = 0;
    for (let i = 0; i <= this.highestIndex; i++) {
      seen += this.counts[i];
      if (seen >= rank) {
        const us = Math.min(this.maxUs, Math.max(this.minUs, upperOf(i)));
        return us / 1000;
      }
    }
    return this.maxUs / 1000;
  }

  get min(): number {
    return this.count === 0 ? 0 : this.minUs / 1000;
  }
  get max(): number {
    return this.maxUs / 1000;
  }
  get mean(): number {
    return this.count === 0 ? 0 : this.sumUs / this.count / 1000;
  }

  summary(): HistogramSummary {
    return {
      count: this.count,
      min: this.min,
      mean: round3(this.mean),
      p50: this.percentile(50),
      p90: this.percentile(90),
      p99: this.percentile(99),
      p999: this.percentile(99.9),
      max: this.max,
    };
  }

  reset(): void {
    this.counts.fill(0);
    this.highestIndex = -1;
    this.count = 0;
    this.sumUs = 0;
    this.minUs = Number.POSITIVE_INFINITY;
    this.maxUs = 0;
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
