import { apiLoader, json } from "~/services/apiRoute.server";
import { devConfig } from "~/v3/devProtocol/devProtocol.server";

/** GET /engine/v1/dev/config: polling intervals and limits for the trigger.dev dev CLI. */
export const loader = apiLoader({}, async ({ auth }) => json(devConfig(auth.environment)));
