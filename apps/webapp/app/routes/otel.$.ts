import { unknownApiPath } from "~/services/apiRoute.server";

/** Any /otel path without a route of its own: JSON 404. */
export const loader = unknownApiPath;
export const action = unknownApiPath;
