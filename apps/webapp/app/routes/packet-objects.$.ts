import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { servePacketObject, storePacketObject } from "~/v3/packets/packetObjectRoute.server";

/** GET and PUT on a signed packet URL (the signature is the credential; no API key). */
export const loader = ({ request, params, context }: LoaderFunctionArgs) => servePacketObject(request, params["*"] ?? "", context.runtime);
export const action = ({ request, params, context }: ActionFunctionArgs) => storePacketObject(request, params["*"] ?? "", context.runtime);
