/**
 * Every run-queue key, built here and passed to Lua in KEYS (the connection's keyPrefix then applies).
 * Dynamic parts are escaped (`%` and `:`), so a queue name or concurrency key can never forge another key.
 *
 *   messages                       HASH  runId → message JSON
 *   inflight                       HASH  runId → "consumerId|dequeuedAt"
 *   ttl                            ZSET  queued runId → ttlExpiresAt
 *   rr:seq                         STRING rotation sequence
 *   deadLetters                    HASH  runId → message JSON (nacked too often)
 *   envs / envs:rr                 ZSET  envId → earliest queued score / last served
 *   env:<e>:meta                   HASH  limit, burst, paused
 *   env:<e>:running                SET   runIds holding env concurrency
 *   env:<e>:dlq                    ZSET  runId → dead-lettered at
 *   env:<e>:queues / :queues:rr    ZSET  queue → earliest score / last served
 *   env:<e>:q:<q>:meta             HASH  limit, paused
 *   env:<e>:q:<q>:running          SET   runIds holding a slot in the queue (any key)
 *   env:<e>:q:<q>:subs / :subs:rr  ZSET  concurrency key ('' = none) → earliest score / last served
 *   env:<e>:q:<q>:ck:<k>           ZSET  queued runIds by score (the sub-queue)
 *   env:<e>:q:<q>:ckrun:<k>        SET   runIds holding a slot of that sub-queue
 *   env:<e>:q:<q>:cklimit:<k>      STRING that key's own limit (overrides the queue's; PX TTL = lapses)
 */
export function escapeKeyPart(part: string): string {
  return part.replace(/%/g, "%25").replace(/:/g, "%3A");
}

export type Identity = { environmentId: string; queue: string; concurrencyKey: string };

export class RunQueueKeys {
  constructor(readonly prefix: string) {}

  messages = () => `${this.prefix}messages`;
  inflight = () => `${this.prefix}inflight`;
  ttl = () => `${this.prefix}ttl`;
  rotationSeq = () => `${this.prefix}rr:seq`;
  deadLetters = () => `${this.prefix}deadLetters`;
  envs = () => `${this.prefix}envs`;
  envsRotation = () => `${this.prefix}envs:rr`;

  env = (envId: string) => `${this.prefix}env:${escapeKeyPart(envId)}`;
  envMeta = (envId: string) => `${this.env(envId)}:meta`;
  envRunning = (envId: string) => `${this.env(envId)}:running`;
  envDeadLetter = (envId: string) => `${this.env(envId)}:dlq`;
  envQueues = (envId: string) => `${this.env(envId)}:queues`;
  envQueuesRotation = (envId: string) => `${this.env(envId)}:queues:rr`;

  queue = (envId: string, queue: string) => `${this.env(envId)}:q:${escapeKeyPart(queue)}`;
  queueMeta = (envId: string, queue: string) => `${this.queue(envId, queue)}:meta`;
  queueRunning = (envId: string, queue: string) => `${this.queue(envId, queue)}:running`;
  queueSubs = (envId: string, queue: string) => `${this.queue(envId, queue)}:subs`;
  queueSubsRotation = (envId: string, queue: string) => `${this.queue(envId, queue)}:subs:rr`;
  subQueue = (envId: string, queue: string, ck: string) => `${this.queue(envId, queue)}:ck:${escapeKeyPart(ck)}`;
  subRunning = (envId: string, queue: string, ck: string) => `${this.queue(envId, queue)}:ckrun:${escapeKeyPart(ck)}`;
  keyLimit = (envId: string, queue: string, ck: string) => `${this.queue(envId, queue)}:cklimit:${escapeKeyPart(ck)}`;

  /** Pub/sub channels are not keys: the caller adds the connection's keyPrefix. */
  signalChannel = (envId: string | undefined) => `${this.prefix}signal:${envId === undefined ? "*" : escapeKeyPart(envId)}`;

  /** KEYS[1..5] of every message script. */
  globals(): string[] {
    return [this.messages(), this.inflight(), this.ttl(), this.rotationSeq(), this.deadLetters()];
  }

  /** The 13 keys one message touches, in the order `placement()` in common.lua expects. */
  placement({ environmentId: e, queue: q, concurrencyKey: ck }: Identity): string[] {
    return [
      this.envs(),
      this.envsRotation(),
      this.envQueues(e),
      this.envQueuesRotation(e),
      this.envRunning(e),
      this.envMeta(e),
      this.queueMeta(e, q),
      this.queueRunning(e, q),
      this.queueSubs(e, q),
      this.queueSubsRotation(e, q),
      this.subQueue(e, q, ck),
      this.subRunning(e, q, ck),
      this.envDeadLetter(e),
    ];
  }

  /** ARGV identity matching `placement()`: member names in the three index levels. */
  static identityArgs({ environmentId, queue, concurrencyKey }: Identity): string[] {
    return [environmentId, queue, concurrencyKey];
  }
}
