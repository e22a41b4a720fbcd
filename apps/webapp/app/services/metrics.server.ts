import { metrics, type Attributes } from "@opentelemetry/api";
import { DataPointType, MeterProvider, MetricReader, type MetricData, type ResourceMetrics } from "@opentelemetry/sdk-metrics";
import { singleton } from "~/utils/singleton.server";

/** A pull reader: nothing is pushed; `/metrics` collects on each scrape. */
class ScrapeReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

export type MetricsRegistry = { provider: MeterProvider; reader: ScrapeReader };

/**
 * The process's OpenTelemetry meter provider, registered globally at boot before any instrument is
 * created (instruments made on the no-op provider stay no-ops). Idempotent.
 */
export function setupMetrics(): MetricsRegistry {
  return singleton("metrics", () => {
    const reader = new ScrapeReader();
    const provider = new MeterProvider({ readers: [reader] });
    metrics.setGlobalMeterProvider(provider);
    return { provider, reader };
  });
}

/** Every instrument's current value in the Prometheus text exposition format (0.0.4). */
export async function renderPrometheus(registry: MetricsRegistry = setupMetrics()): Promise<string> {
  const { resourceMetrics } = await registry.reader.collect();
  return serialisePrometheus(resourceMetrics);
}

export function serialisePrometheus(resourceMetrics: ResourceMetrics): string {
  const lines: string[] = [];
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) lines.push(...serialiseMetric(metric));
  }
  return lines.length ? lines.join("\n") + "\n" : "";
}

function serialiseMetric(metric: MetricData): string[] {
  const base = sanitiseName(metric.descriptor.name);
  const help = metric.descriptor.description ? [`# HELP ${base} ${escapeHelp(metric.descriptor.description)}`] : [];
  switch (metric.dataPointType) {
    case DataPointType.SUM: {
      const name = metric.isMonotonic ? `${base}_total` : base;
      return [
        ...help.map((h) => h.replace(`# HELP ${base}`, `# HELP ${name}`)),
        `# TYPE ${name} ${metric.isMonotonic ? "counter" : "gauge"}`,
        ...metric.dataPoints.map((p) => `${name}${labels(p.attributes)} ${num(p.value)}`),
      ];
    }
    case DataPointType.GAUGE:
      return [...help, `# TYPE ${base} gauge`, ...metric.dataPoints.map((p) => `${base}${labels(p.attributes)} ${num(p.value)}`)];
    case DataPointType.HISTOGRAM: {
      const out = [...help, `# TYPE ${base} histogram`];
      for (const point of metric.dataPoints) {
        const { buckets, sum, count } = point.value;
        let cumulative = 0;
        buckets.boundaries.forEach((bound, i) => {
          cumulative += buckets.counts[i] ?? 0;
          out.push(`${base}_bucket${labels(point.attributes, { le: num(bound) })} ${cumulative}`);
        });
        out.push(`${base}_bucket${labels(point.attributes, { le: "+Inf" })} ${count}`);
        out.push(`${base}_sum${labels(point.attributes)} ${num(sum ?? 0)}`);
        out.push(`${base}_count${labels(point.attributes)} ${count}`);
      }
      return out;
    }
    default:
      return []; // exponential histograms are not used
  }
}

function sanitiseName(name: string): string {
  const cleaned = name.replace(/[^a-zA-Z0-9_:]/g, "_");
  return /^[0-9]/.test(cleaned) ? `_${cleaned}` : cleaned;
}

function labels(attributes: Attributes, extra: Record<string, string> = {}): string {
  const pairs = [
    ...Object.entries(attributes)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [sanitiseName(k), Array.isArray(v) ? v.join(",") : String(v)] as const),
    ...Object.entries(extra),
  ];
  if (pairs.length === 0) return "";
  return `{${pairs.map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')}"`).join(",")}}`;
}

function num(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}
