/**
 * Registered users in pages, for walks over every user (reconciliation). Each page is one index range of
 * `users`: by user id within a project (the `users_project_user` index), or by account id across projects
 * (the primary key), so a page reads exactly its rows however many users there are.
 */
export type UserRef = { accountId: number; projectKey: string; userId: string };

/** Up to `limit` users of a project with a user id after `afterUserId` (null: from the first), in user id order. */
export async function projectUsersAfter(d1: D1Database, projectKey: string, afterUserId: string | null, limit: number): Promise<UserRef[]> {
  const { results } = await d1
    .prepare(
      `SELECT account_id AS accountId, project_key AS projectKey, user_id AS userId FROM users
       WHERE project_key = ?1 AND user_id > ?2 ORDER BY user_id LIMIT ?3`,
    )
    .bind(projectKey, afterUserId ?? "", limit)
    .all<UserRef>();
  return results;
}

/** Up to `limit` users of every project with an account id above `afterAccountId`, in account id order. */
export async function usersAfterAccount(d1: D1Database, afterAccountId: number, limit: number): Promise<UserRef[]> {
  const { results } = await d1
    .prepare("SELECT account_id AS accountId, project_key AS projectKey, user_id AS userId FROM users WHERE account_id > ?1 ORDER BY account_id LIMIT ?2")
    .bind(afterAccountId, limit)
    .all<UserRef>();
  return results;
}

/** The highest account id assigned so far (0 before any user): where a walk over every account may stop. */
export async function highestAccountId(d1: D1Database): Promise<number> {
  return (await d1.prepare("SELECT COALESCE(MAX(account_id), 0) AS n FROM users").first<{ n: number }>())?.n ?? 0;
}
