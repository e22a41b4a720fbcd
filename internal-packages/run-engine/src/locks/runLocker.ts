import type { LockContext, LockOptions, RunLockerApi, RunLockerOptions } from "./types.js";

/** Redis lock over run ids (work in progress: the API is final, the body lands next). */
export class RunLocker implements RunLockerApi {
  constructor(readonly options: RunLockerOptions) {}
  async lock<T>(_resources: string[], _fn: (context: LockContext) => Promise<T>, _options?: LockOptions): Promise<T> {
    throw new Error("RunLocker: not implemented yet");
  }
  isHeld(_resource: string): boolean {
    return false;
  }
  async close(): Promise<void> {}
}
