import { HttpClient } from "./http.js";
import { PublicApi } from "./publicApi.js";

export type ClientConfig = { apiUrl: string; secretKey: string };

const CONFIG_KEY = Symbol.for("runplane.worker.clientConfig");
type GlobalWithConfig = typeof globalThis & { [CONFIG_KEY]?: ClientConfig };

/** Sets the API URL and secret key that `task.trigger()`, `wait.createToken()`… use outside a worker. */
export function configure(config: ClientConfig): void {
  if (!config.apiUrl || !config.secretKey) throw new Error("configure() needs apiUrl and secretKey");
  (globalThis as GlobalWithConfig)[CONFIG_KEY] = { apiUrl: config.apiUrl, secretKey: config.secretKey };
}

/** The configured client, else RUNPLANE_API_URL/TRIGGER_API_URL and RUNPLANE_SECRET_KEY/TRIGGER_SECRET_KEY. */
export function resolveClientConfig(env: NodeJS.ProcessEnv = process.env): ClientConfig | undefined {
  const configured = (globalThis as GlobalWithConfig)[CONFIG_KEY];
  if (configured) return configured;
  const apiUrl = env.RUNPLANE_API_URL ?? env.TRIGGER_API_URL;
  const secretKey = env.RUNPLANE_SECRET_KEY ?? env.TRIGGER_SECRET_KEY;
  return apiUrl && secretKey ? { apiUrl, secretKey } : undefined;
}

export function configuredPublicApi(): PublicApi {
  const config = resolveClientConfig();
  if (!config) {
    throw new Error(
      "No Runplane client configured: call configure({ apiUrl, secretKey }) or set RUNPLANE_API_URL and RUNPLANE_SECRET_KEY",
    );
  }
  return new PublicApi(new HttpClient(config));
}
