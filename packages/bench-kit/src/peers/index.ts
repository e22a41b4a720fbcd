/**
 * Peer queues for `pnpm bench:peers`: graphile-worker and BullMQ behind one small interface, the
 * "floor" HTTP server, and the scenarios run against them. A separate entry point
 * (`@runplane/bench-kit/peers`) so the other benches never load the peer libraries.
 */
export type { PeerQueue } from "./types.js";
export { createGraphilePeer } from "./graphile.js";
export { createBullmqPeer } from "./bullmq.js";
export { startFloorServer, type FloorServer } from "./floor.js";
export { benchPayload, measureAdd, measureDrain, measureStartLatency, type DrainResult, type StartLatencyResult } from "./scenarios.js";
export { createScratchDatabase, deleteKeysWithPrefix, scratchPrefix, type ScratchDatabase } from "./scratch.js";
export { peerVersion } from "./versions.js";
