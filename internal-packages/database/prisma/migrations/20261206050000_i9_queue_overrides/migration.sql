-- Queue limit overrides (the declared base is kept so a reset restores it) and the waitpoint release opt-out.
ALTER TABLE "TaskQueue" ADD COLUMN "concurrencyLimitBase" INTEGER;
ALTER TABLE "TaskQueue" ADD COLUMN "concurrencyLimitOverriddenAt" TIMESTAMP(3);
ALTER TABLE "TaskQueue" ADD COLUMN "releaseConcurrencyOnWaitpoint" BOOLEAN NOT NULL DEFAULT true;
UPDATE "TaskQueue" SET "concurrencyLimitBase" = "concurrencyLimit";
