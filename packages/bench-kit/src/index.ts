/**
 * @runplane/bench-kit — load generation (closed and open loop), CPU and progress sampling,
 * PNG line charts, and result tables for Runplane's benchmarks (anchors.md §5, B1–B5).
 */
export { Histogram, type HistogramSummary } from "./histogram.js";
export * from "./load/index.js";
export {
  CpuSampler,
  cpuPerRequest,
  findPids,
  descendantsOf,
  readProcStat,
  standardGroups,
  clockTicksPerSecond,
  type CpuReport,
  type CpuSample,
  type CpuGroupReport,
  type CpuSamplerOptions,
  type ProcessGroup,
  type ProcessMatch,
  type ProcessStat,
} from "./cpu.js";
export { ProgressSampler, rateOf, redisUsedMemoryProbe, sqlNumberProbe, type Probe, type ProgressPoint, type ProgressSamplerOptions, type SeriesPoint } from "./progress.js";
export * from "./chart/index.js";
export * from "./table.js";
