import { msToIso, storedUid, uidText } from "../src/db/event-log";

/**
 * The event log as tests read it: its rows (src/db/schema.ts `eventLog`) with the columns they had before
 * migration 0013 slimmed them (the project's key, times as ISO text, the uid as text, the registered user of the
 * account) and what waits in event_log_details until the row is archived (points, flags). Select from it as a
 * table: `SELECT COUNT(*) FROM ${LOGGED} WHERE project_key = ?`.
 */
export const LOGGED = `(SELECT e.id, e.ledger_id, p.key AS project_key, e.program_id, e.account_id, u.user_id, e.event_id,
    ${uidText("e.event_uid")} AS event_uid, COALESCE(e.metadata, '{}') AS metadata, ${msToIso("e.occurred_at")} AS occurred_at,
    ${msToIso("e.recorded_at")} AS recorded_at, e.rule_id, e.reward_amount, e.reward_currency, e.customer_message,
    e.adjusted_reward_amount, e.previous_reward_amount, e.adjustment_seq, d.definition_version, d.event_type, d.ledger_type, d.points,
    d.balance_before, d.balance_after, d.user_group_id, d.condition_reached, d.limit_reached, d.reward
  FROM event_log e JOIN projects p ON p.id = e.program_id
  LEFT JOIN event_log_details d ON d.event_uid = ${uidText("e.event_uid")}
  LEFT JOIN users u ON u.account_id = e.account_id AND u.project_key = p.key)`;

/** SQL: the event-log rows of the project whose key is bound as ?1 (`WHERE ${OF_PROJECT}`). */
export const OF_PROJECT = "program_id = (SELECT id FROM projects WHERE key = ?1)";

/** SQL: the event-log row of the uid bound as ?1 (`WHERE ${OF_UID}`). */
export const OF_UID = `event_uid = ${storedUid("?1")}`;
