CREATE TABLE "AuthorizationCode" (
    "id" TEXT NOT NULL,
    "code" TEXT NOT NULL,
    "codeChallenge" TEXT NOT NULL,
    "callbackPort" INTEGER,
    "approvalCodeHash" TEXT,
    "approvedByUserId" TEXT,
    "approvedAt" TIMESTAMP(3),
    "consumedAt" TIMESTAMP(3),
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "AuthorizationCode_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "AuthorizationCode_code_key" ON "AuthorizationCode"("code");
ALTER TABLE "AuthorizationCode" ADD CONSTRAINT "AuthorizationCode_approvedByUserId_fkey" FOREIGN KEY ("approvedByUserId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;
