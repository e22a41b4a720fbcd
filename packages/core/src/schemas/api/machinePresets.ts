import { MACHINE_PRESETS } from "./common.js";

/**
 * The machine presets as the trigger.dev task runtime expects them in `execution.machine` (name,
 * vCPU, GB, cost). Runplane runs a task where its worker runs, so they are reported, never enforced.
 */
const RESOURCES: Record<(typeof MACHINE_PRESETS)[number], { cpu: number; memory: number }> = {
  micro: { cpu: 0.25, memory: 0.25 },
  "small-1x": { cpu: 0.5, memory: 0.5 },
  "small-2x": { cpu: 1, memory: 1 },
  "medium-1x": { cpu: 1, memory: 2 },
  "medium-2x": { cpu: 2, memory: 4 },
  "large-1x": { cpu: 4, memory: 8 },
  "large-2x": { cpu: 8, memory: 16 },
};

export type MachinePresetResources = { name: (typeof MACHINE_PRESETS)[number]; cpu: number; memory: number; centsPerMs: number };

/** The named preset, `small-1x` for an unknown or absent name. */
export function machinePresetResources(name: string | null | undefined): MachinePresetResources {
  const key = (name && name in RESOURCES ? name : "small-1x") as (typeof MACHINE_PRESETS)[number];
  return { name: key, ...RESOURCES[key], centsPerMs: 0 };
}
