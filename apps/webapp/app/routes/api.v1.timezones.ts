import type { LoaderFunctionArgs } from "@remix-run/node";
import { TimezonesQuery, TimezonesResponse, formatZodIssues, searchParamsToRecord } from "@runplane/core/schemas";
import { ValidationError } from "@runplane/core";
import { json } from "~/services/apiRoute.server";
import { withErrorResponse } from "~/services/httpErrors.server";
import { supportedTimezones } from "~/v3/schedules/cron.server";

/** GET /api/v1/timezones[?excludeUtc=true]: every timezone a schedule accepts. Public: the SDK sends no key. */
export const loader = ({ request, context }: LoaderFunctionArgs) =>
  withErrorResponse(async () => {
    const query = TimezonesQuery.safeParse(searchParamsToRecord(new URL(request.url).searchParams));
    if (!query.success) throw new ValidationError(formatZodIssues(query.error));
    return json(TimezonesResponse.parse({ timezones: supportedTimezones({ excludeUtc: query.data.excludeUtc === "true" }) }));
  }, context.runtime.logger);
