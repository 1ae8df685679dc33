/**
 * SQL for the counting tables the consumer keeps beside per-user state (users per score, per last active day,
 * streak participants per break time or per longest run): when a user's value changes, the user leaves the
 * group of the old value and joins the group of the new one.
 */
export type GroupMove = {
  /** A `WITH ... changes AS (...)` clause whose `changes` rows hold the new and the old value of each user. */
  changes: string;
  table: string;
  /** The columns naming the grouping besides the group value, the same in `changes` and `table`. */
  keys: readonly string[];
  /** The group column of `table`, and the columns of `changes` holding the new and the old value (old NULL: a new user). */
  group: { column: string; value: string; oldValue: string };
  /** The column counting users in a group. */
  count: string;
  /** Columns summing a value over the group's users, with the new and old value columns of `changes`. */
  sums?: ReadonlyArray<{ column: string; value: string; oldValue: string }>;
};

/** One upsert of net deltas: +1 (and the new values) in each new group, -1 (and the old values) in each old one. */
export function moveBetweenGroups(move: GroupMove): string {
  const keys = move.keys.join(", ");
  const sums = move.sums ?? [];
  const plus = sums.map((s) => `, ${s.value} AS ${s.column}`).join("");
  const minus = sums.map((s) => `, -${s.oldValue}`).join("");
  const summed = sums.map((s) => `, SUM(${s.column})`).join("");
  const columns = sums.map((s) => `, ${s.column}`).join("");
  const updates = [move.count, ...sums.map((s) => s.column)].map((c) => `${c} = ${c} + excluded.${c}`).join(", ");
  return `${move.changes}
INSERT INTO ${move.table} (${keys}, ${move.group.column}, ${move.count}${columns})
SELECT ${keys}, grp, SUM(n)${summed} FROM (
  SELECT ${keys}, ${move.group.value} AS grp, 1 AS n${plus} FROM changes
  UNION ALL
  SELECT ${keys}, ${move.group.oldValue}, -1${minus} FROM changes WHERE ${move.group.oldValue} IS NOT NULL
) WHERE true
GROUP BY ${keys}, grp
ON CONFLICT (${keys}, ${move.group.column}) DO UPDATE SET ${updates}`;
}
