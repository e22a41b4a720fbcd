/**
 * Environment variables: `/api/v1/projects/{ref}/envvars/{slug}` (list GET, create POST),
 * `…/{slug}/import` (POST), `…/{slug}/{name}` (retrieve GET, update PUT, delete DELETE), as the
 * published SDK's `envvars.*` calls them. Mutations answer `{ success: true }`.
 */
import { z } from "zod";

export const CreateEnvironmentVariableRequestBody = z.object({
  name: z.string(),
  value: z.string(),
  isSecret: z.boolean().optional(),
});

export const UpdateEnvironmentVariableRequestBody = z.object({ value: z.string() });

export const ImportEnvironmentVariablesRequestBody = z.object({
  variables: z.record(z.string(), z.string()),
  /** Accepted for the SDK's shape; Runplane has no parent (branch) environments, so they are ignored. */
  parentVariables: z.record(z.string(), z.string()).optional(),
  override: z.boolean().optional(),
  isSecret: z.boolean().optional(),
  source: z.unknown().optional(),
});

export const EnvironmentVariableWithSecret = z.object({ name: z.string(), value: z.string(), isSecret: z.boolean() });
