/**
 * A registered user as its Durable Object holds it. `projectKey` is the tenant (the token's `projectId`),
 * `programId` its numeric id (the ledger's `loyaltyProgramId`); `userId` is the caller's id for the user,
 * `accountId` its numeric id (the ledger's `loyaltyAccountId`).
 */
export type Registration = {
  projectKey: string;
  programId: number;
  userId: string;
  accountId: number;
  usergroups: string[];
  /** D1's `users.registration_version`: grows with every change, so the object keeps the newest registration. */
  registrationVersion: number;
};

export type UserProfile = Registration & { balance: number };
