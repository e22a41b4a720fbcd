import { NotFoundError, RateLimitedError, ValidationError } from "@runplane/core";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { errorToResponse, withErrorResponse } from "~/services/httpErrors.server";
import { createLogger } from "~/services/logger.server";

const logger = createLogger({ level: "error", sink: () => {} });

describe("errorToResponse", () => {
  it("maps RunplaneErrors to their status", async () => {
    const res = errorToResponse(new NotFoundError("Run not found"), logger);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: "Run not found", code: "not_found" });
    expect(errorToResponse(new ValidationError("bad"), logger).status).toBe(400);
  });

  it("adds retry-after to rate-limit errors", () => {
    const res = errorToResponse(new RateLimitedError(1_500), logger);
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("2");
  });

  it("maps zod errors to 400 and hides unknown errors behind a 500", async () => {
    const zodError = z.object({ a: z.string() }).safeParse({}).error!;
    const res = errorToResponse(zodError, logger);
    expect(res.status).toBe(400);
    expect((await res.json()).error).toContain("a:");
    const hidden = errorToResponse(new Error("db password is hunter2"), logger);
    expect(hidden.status).toBe(500);
    expect(await hidden.json()).toEqual({ error: "Internal server error", code: "internal_error" });
  });

  it("withErrorResponse passes responses through and maps throws", async () => {
    expect((await withErrorResponse(async () => new Response("ok"), logger)).status).toBe(200);
    expect((await withErrorResponse(async () => Promise.reject(new NotFoundError()), logger)).status).toBe(404);
  });
});
