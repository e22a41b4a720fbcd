import type {
  ConcurrencyScope, DequeueOptions, EnqueueOptions, EnqueueResult, EnvConcurrencyOptions, NackOptions, NackResult,
  PeekedMessage, QueueMessage, QueueMessageInput, ReacquireOptions, RunQueueApi, RunQueueOptions,
} from "./types.js";

const notYet = (): never => {
  throw new Error("RunQueue: not implemented yet");
};

/** Redis-backed run queue (work in progress: the API is final, bodies land next). */
export class RunQueue implements RunQueueApi {
  constructor(readonly options: RunQueueOptions) {}
  async enqueueMessage(_m: QueueMessageInput, _o?: EnqueueOptions): Promise<EnqueueResult> { return notYet(); }
  async dequeue(_o: DequeueOptions): Promise<QueueMessage[]> { return notYet(); }
  async acknowledgeMessage(_r: string): Promise<boolean> { return notYet(); }
  async nackMessage(_r: string, _o?: NackOptions): Promise<NackResult> { return notYet(); }
  async releaseConcurrency(_r: string): Promise<boolean> { return notYet(); }
  async reacquireConcurrency(_r: string, _o?: ReacquireOptions): Promise<boolean> { return notYet(); }
  async removeMessage(_r: string): Promise<boolean> { return notYet(); }
  async updateQueueConcurrencyLimit(_e: string, _q: string, _l: number | null): Promise<void> { return notYet(); }
  async updateEnvConcurrencyLimit(_e: string, _l: number, _o?: EnvConcurrencyOptions): Promise<void> { return notYet(); }
  async pauseQueue(_e: string, _q: string): Promise<void> { return notYet(); }
  async resumeQueue(_e: string, _q: string): Promise<void> { return notYet(); }
  async pauseEnvironment(_e: string): Promise<void> { return notYet(); }
  async resumeEnvironment(_e: string): Promise<void> { return notYet(); }
  async lengthOfQueue(_e: string, _q: string, _k?: string | null): Promise<number> { return notYet(); }
  async currentConcurrency(_s: ConcurrencyScope): Promise<number> { return notYet(); }
  async peekMessage(_r: string): Promise<PeekedMessage | undefined> { return notYet(); }
  async popExpiredMessages(_n: number, _l: number): Promise<string[]> { return notYet(); }
  async waitForMessages(_e: string | undefined, _t: number, _s?: AbortSignal): Promise<boolean> { return notYet(); }
  async close(): Promise<void> {}
}
