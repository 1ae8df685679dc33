import type { Registration, UserProfile } from "../../domain/user";

export type ProfileRow = {
  project_key: string;
  program_id: number;
  user_id: string;
  account_id: number;
  usergroups: string;
  balance: number;
  registration_version: number;
};

/** The user's registration and points balance (one row). */
export function readProfile(sql: SqlStorage): UserProfile | null {
  const row = sql
    .exec<ProfileRow>("SELECT project_key, program_id, user_id, account_id, usergroups, balance, registration_version FROM profile WHERE id = 1")
    .toArray()[0];
  return row ? toProfile(row) : null;
}

export function toProfile(row: ProfileRow): UserProfile {
  return {
    projectKey: row.project_key,
    programId: row.program_id,
    userId: row.user_id,
    accountId: row.account_id,
    usergroups: JSON.parse(row.usergroups) as string[],
    registrationVersion: row.registration_version,
    balance: row.balance,
  };
}

/**
 * Registers the user or updates its registration; the balance is kept. A registration older than the stored
 * one (a delayed or retried call that lost a race) changes nothing. Returns the version now stored.
 */
export function writeRegistration(sql: SqlStorage, registration: Registration): number {
  sql.exec(
    `INSERT INTO profile (id, project_key, program_id, user_id, account_id, usergroups, registration_version) VALUES (1, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET project_key = excluded.project_key, program_id = excluded.program_id,
       user_id = excluded.user_id, account_id = excluded.account_id, usergroups = excluded.usergroups,
       registration_version = excluded.registration_version
     WHERE excluded.registration_version >= profile.registration_version`,
    registration.projectKey,
    registration.programId,
    registration.userId,
    registration.accountId,
    JSON.stringify(registration.usergroups),
    registration.registrationVersion,
  );
  return sql.exec<{ v: number }>("SELECT registration_version AS v FROM profile WHERE id = 1").one().v;
}

/**
 * Records a change of the user's state: the new balance, and the next number of the user's sequence (1, 2,
 * ...), which numbers the messages consumers keep only the newest state of. One statement.
 */
export function recordChange(sql: SqlStorage, balance: number): number {
  return sql.exec<{ seq: number }>("UPDATE profile SET balance = ?, seq = seq + 1 WHERE id = 1 RETURNING seq", balance).one().seq;
}
