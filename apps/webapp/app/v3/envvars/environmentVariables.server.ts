import type { ControlPlaneClient } from "@internal/database";
import { ConflictError, NotFoundError, ValidationError, generateCuid } from "@runplane/core";
import type { SecretBox } from "./secretBox.server";

/** What list and retrieve show for a secret variable's value. */
export const REDACTED_VALUE = "<redacted>";

/** POSIX-ish names: what a shell and `process.env` accept without quoting. */
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_VALUE_BYTES = 64 * 1024;
const RESERVED = new Set(["TRIGGER_SECRET_KEY", "TRIGGER_API_URL"]);

export type EnvironmentVariableView = { name: string; value: string; isSecret: boolean };

/**
 * An environment's variables: stored encrypted (SecretBox), shown redacted when secret, decrypted for
 * the workers that run the environment's tasks (`valuesForEnvironment`, also the CLI dev mode's lookup).
 */
export class EnvironmentVariableService {
  constructor(
    private readonly prisma: ControlPlaneClient,
    private readonly box: SecretBox
  ) {}

  async list(environmentId: string, options: { reveal?: boolean } = {}): Promise<EnvironmentVariableView[]> {
    const rows = await this.prisma.environmentVariable.findMany({ where: { runtimeEnvironmentId: environmentId }, orderBy: { name: "asc" } });
    return rows.map((row) => this.#view(row, options.reveal ?? false));
  }

  async retrieve(environmentId: string, name: string): Promise<EnvironmentVariableView> {
    return this.#view(await this.#require(environmentId, name), false);
  }

  /** Every variable of the environment, decrypted: what a run's `process.env` receives. */
  async valuesForEnvironment(environmentId: string): Promise<Record<string, string>> {
    const rows = await this.prisma.environmentVariable.findMany({
      where: { runtimeEnvironmentId: environmentId },
      select: { name: true, encryptedValue: true },
    });
    return Object.fromEntries(rows.map((row) => [row.name, this.box.decrypt(row.encryptedValue)]));
  }

  async create(environmentId: string, input: { name: string; value: string; isSecret?: boolean }): Promise<void> {
    validate(input.name, input.value);
    const existing = await this.prisma.environmentVariable.findUnique({
      where: { runtimeEnvironmentId_name: { runtimeEnvironmentId: environmentId, name: input.name } },
      select: { id: true },
    });
    if (existing) throw new ConflictError(`Environment variable ${input.name} already exists; update it instead`);
    await this.prisma.environmentVariable.create({
      data: {
        id: generateCuid(),
        runtimeEnvironmentId: environmentId,
        name: input.name,
        encryptedValue: this.box.encrypt(input.value),
        isSecret: input.isSecret ?? false,
      },
    });
  }

  async update(environmentId: string, name: string, value: string): Promise<void> {
    validate(name, value);
    await this.#require(environmentId, name);
    await this.prisma.environmentVariable.update({
      where: { runtimeEnvironmentId_name: { runtimeEnvironmentId: environmentId, name } },
      data: { encryptedValue: this.box.encrypt(value) },
    });
  }

  async delete(environmentId: string, name: string): Promise<void> {
    const { count } = await this.prisma.environmentVariable.deleteMany({ where: { runtimeEnvironmentId: environmentId, name } });
    if (count === 0) throw new NotFoundError(`Environment variable ${name} not found`);
  }

  /** Creates the variables; existing ones are overwritten only with `override` (else kept). All or nothing. */
  async import(environmentId: string, input: { variables: Record<string, string>; override?: boolean; isSecret?: boolean }): Promise<void> {
    const entries = Object.entries(input.variables);
    for (const [name, value] of entries) validate(name, value);
    await this.prisma.$transaction(async (tx) => {
      for (const [name, value] of entries) {
        const where = { runtimeEnvironmentId_name: { runtimeEnvironmentId: environmentId, name } };
        if (input.override) {
          await tx.environmentVariable.upsert({
            where,
            create: { id: generateCuid(), runtimeEnvironmentId: environmentId, name, encryptedValue: this.box.encrypt(value), isSecret: input.isSecret ?? false },
            update: { encryptedValue: this.box.encrypt(value) },
          });
        } else if (!(await tx.environmentVariable.findUnique({ where, select: { id: true } }))) {
          await tx.environmentVariable.create({
            data: { id: generateCuid(), runtimeEnvironmentId: environmentId, name, encryptedValue: this.box.encrypt(value), isSecret: input.isSecret ?? false },
          });
        }
      }
    });
  }

  async #require(environmentId: string, name: string) {
    const row = await this.prisma.environmentVariable.findUnique({
      where: { runtimeEnvironmentId_name: { runtimeEnvironmentId: environmentId, name } },
    });
    if (!row) throw new NotFoundError(`Environment variable ${name} not found`);
    return row;
  }

  #view(row: { name: string; encryptedValue: string; isSecret: boolean }, reveal: boolean): EnvironmentVariableView {
    return { name: row.name, value: row.isSecret && !reveal ? REDACTED_VALUE : this.box.decrypt(row.encryptedValue), isSecret: row.isSecret };
  }
}

function validate(name: string, value: string): void {
  if (!NAME.test(name)) throw new ValidationError(`Invalid variable name "${name}": letters, digits and _ only, not starting with a digit`);
  if (RESERVED.has(name) || name.startsWith("RUNPLANE_")) throw new ValidationError(`${name} is reserved: the worker's own configuration`);
  if (Buffer.byteLength(value, "utf8") > MAX_VALUE_BYTES) throw new ValidationError(`Value of ${name} is larger than 64 KiB`);
}
