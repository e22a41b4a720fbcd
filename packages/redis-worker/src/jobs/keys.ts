/**
 * Keys of one job queue, built here and passed to Lua in KEYS:
 *   <prefix><name>:due       ZSET  id → availableAt (claim deadline while claimed)
 *   <prefix><name>:jobs      HASH  id → {"job","payload"} JSON
 *   <prefix><name>:attempts  HASH  id → claims so far
 *   <prefix><name>:claims    HASH  id → current claim token
 *   <prefix><name>:errors    HASH  id → last error
 *   <prefix><name>:dlq       LIST  dead letters, newest first
 */
export class JobKeys {
  readonly due: string;
  readonly jobs: string;
  readonly attempts: string;
  readonly claims: string;
  readonly errors: string;
  readonly deadLetters: string;

  constructor(prefix: string, name: string) {
    const base = `${prefix}${name}:`;
    this.due = `${base}due`;
    this.jobs = `${base}jobs`;
    this.attempts = `${base}attempts`;
    this.claims = `${base}claims`;
    this.errors = `${base}errors`;
    this.deadLetters = `${base}dlq`;
  }

  /** due, jobs, attempts, claims, errors: the KEYS prefix most job scripts share. */
  state(): string[] {
    return [this.due, this.jobs, this.attempts, this.claims, this.errors];
  }
}
