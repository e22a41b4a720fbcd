/**
 * One error type per failure kind. `status` is the HTTP status the webapp maps it to, in one place
 * (apps/webapp/app/services/httpErrors.server.ts). Keep messages user-facing: they end up in `{ error }`.
 */
export class RunplaneError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(code: string, message: string, status: number) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
  }
}

export class ValidationError extends RunplaneError {
  constructor(message: string) {
    super("validation_error", message, 400);
  }
}
export class UnauthorizedError extends RunplaneError {
  constructor(message = "Invalid or missing API key") {
    super("unauthorized", message, 401);
  }
}
export class ForbiddenError extends RunplaneError {
  constructor(message = "Forbidden") {
    super("forbidden", message, 403);
  }
}
export class NotFoundError extends RunplaneError {
  constructor(message = "Not found") {
    super("not_found", message, 404);
  }
}
export class ConflictError extends RunplaneError {
  constructor(message: string) {
    super("conflict", message, 409);
  }
}
export class PayloadTooLargeError extends RunplaneError {
  constructor(message = "Request body too large") {
    super("payload_too_large", message, 413);
  }
}
export class UnprocessableError extends RunplaneError {
  constructor(message: string) {
    super("unprocessable", message, 422);
  }
}
export class RateLimitedError extends RunplaneError {
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number) {
    super("rate_limited", "Rate limit exceeded", 429);
    this.retryAfterMs = retryAfterMs;
  }
}
export class ServiceUnavailableError extends RunplaneError {
  constructor(message: string) {
    super("service_unavailable", message, 503);
  }
}
/** Boot-time misconfiguration: the process must refuse to start. */
export class ConfigurationError extends RunplaneError {
  constructor(code: string, message: string) {
    super(code, message, 500);
  }
}
