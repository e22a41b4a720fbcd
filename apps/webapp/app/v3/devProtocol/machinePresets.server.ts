/**
 * The machine presets the trigger.dev task runtime expects in `execution.machine` (name, vCPU, GB,
 * cost). Runplane runs every task where its worker runs, so these are reported, never enforced.
 */
const PRESETS = {
  micro: { cpu: 0.25, memory: 0.25 },
  "small-1x": { cpu: 0.5, memory: 0.5 },
  "small-2x": { cpu: 1, memory: 1 },
  "medium-1x": { cpu: 1, memory: 2 },
  "medium-2x": { cpu: 2, memory: 4 },
  "large-1x": { cpu: 4, memory: 8 },
  "large-2x": { cpu: 8, memory: 16 },
} as const;

export type MachinePresetName = keyof typeof PRESETS;
export type MachinePreset = { name: MachinePresetName; cpu: number; memory: number; centsPerMs: number };

export function machinePreset(name: string | null | undefined): MachinePreset {
  const key = (name && name in PRESETS ? name : "small-1x") as MachinePresetName;
  return { name: key, ...PRESETS[key], centsPerMs: 0 };
}
