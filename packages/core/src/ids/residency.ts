import { isCuid } from "./cuid.js";
import { isKsuid } from "./ksuid.js";
import { stripFriendlyPrefix } from "./friendlyId.js";

/** Which database owns a row: LEGACY = control-plane database, NEW = run-ops database. */
export type Residency = "LEGACY" | "NEW";

export type ShapeRule = { name: string; residency: Residency; matches: (bareId: string) => boolean };

export type ClassifyResult = { residency: Residency; shape: string | null };

const rules: ShapeRule[] = [
  { name: "cuid", residency: "LEGACY", matches: isCuid },
  { name: "ksuid", residency: "NEW", matches: isKsuid },
];

type UnclassifiedListener = (id: string) => void;
let onUnclassified: UnclassifiedListener = (id) => {
  console.warn(JSON.stringify({ level: "warn", msg: "unclassifiable id shape; treating as LEGACY", id }));
};

/** Teach the classifier a new id shape (e.g. a future run-ops id format). Earlier rules win. */
export function registerIdShape(rule: ShapeRule): () => void {
  rules.push(rule);
  return () => {
    const index = rules.indexOf(rule);
    if (index >= 0) rules.splice(index, 1);
  };
}

export function setUnclassifiedIdListener(listener: UnclassifiedListener): void {
  onUnclassified = listener;
}

/** Shape of an id, with or without its friendly prefix; null when no rule knows it. */
export function classifyIdShape(id: string): ClassifyResult {
  const bare = stripFriendlyPrefix(id);
  for (const rule of rules) {
    if (rule.matches(bare)) return { residency: rule.residency, shape: rule.name };
  }
  return { residency: "LEGACY", shape: null };
}

/** LEGACY | NEW by id shape. Never throws: an unknown shape is LEGACY, with a warning. */
export function classifyResidency(id: string): Residency {
  const result = classifyIdShape(id);
  if (result.shape === null) onUnclassified(id);
  return result.residency;
}

export function isClassifiable(id: string): boolean {
  return classifyIdShape(id).shape !== null;
}
