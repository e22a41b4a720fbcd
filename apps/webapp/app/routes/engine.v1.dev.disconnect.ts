import { apiAction, json } from "~/services/apiRoute.server";
import { devDisconnect } from "~/v3/devProtocol/devProtocol.server";

/** POST /engine/v1/dev/disconnect: the dev CLI exits; its unfinished runs are cancelled. */
export const action = apiAction({}, { POST: async ({ request, auth }) => json(await devDisconnect(auth.environment, request)) });
