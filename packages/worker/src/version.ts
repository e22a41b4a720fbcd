/** Sent as `sdkVersion` at registration. Keep in step with package.json. */
export const WORKER_SDK_VERSION = "0.1.0";
