-- An operator's cap on the runs of all concurrency keys of a queue at once (null: none, the env limit bounds them).
ALTER TABLE "TaskQueue" ADD COLUMN "concurrencyLimitTotal" INTEGER;
ALTER TABLE "TaskQueue" ADD COLUMN "concurrencyLimitTotalOverriddenAt" TIMESTAMP(3);
