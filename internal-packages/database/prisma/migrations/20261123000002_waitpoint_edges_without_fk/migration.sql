-- A run may be blocked by a waitpoint that lives in the other database (a run-ops run waiting on a
-- standalone token kept on the control plane), so the blocking edge cannot reference Waitpoint.
ALTER TABLE "TaskRunWaitpoint" DROP CONSTRAINT IF EXISTS "TaskRunWaitpoint_waitpointId_fkey";
