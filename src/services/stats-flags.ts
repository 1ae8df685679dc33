import type { StatsQuestion } from "../durable/stats-activity";
import type { StatsAnswer } from "../durable/storage/stats-activity";
import { userStateStub } from "../durable/stub";
import type { LoggedEventMessage } from "../domain/logged-event";
import { isLoggedEvent, type QueueMessage } from "../domain/queue-message";

/** The users' objects, for what only asks them (ingestion's stats flags, the ledger). */
export type UserObjects = Pick<Env, "USER_STATE">;

/** The question for a logged event whose message lacks stats flags, or null when it carries them all. */
function questionFor(message: LoggedEventMessage): StatsQuestion | null {
  const streaks = (message.updates?.streaks ?? []).filter((state) => state.previous === undefined);
  const activity = message.activity === undefined;
  if (!activity && streaks.length === 0) return null;
  const { eventUid, eventId, occurredAt } = message;
  return { eventUid, eventId, occurredAt, activity, seq: message.updates?.seq ?? 0, streaks };
}

/**
 * Fills in the stats flags of logged events whose messages lack them (queued before the users' objects decided
 * them, or sent while an object could not read its seed): each user's object answers for its own events, one
 * call per user, in the order the messages come. Messages with flags pass unchanged, and with none missing no
 * object is called. Throws when an object cannot answer (the consumer retries, like a D1 failure).
 */
export async function withStatsFlags(objects: UserObjects, messages: readonly QueueMessage[]): Promise<QueueMessage[]> {
  const byUser = new Map<string, { projectKey: string; userId: string; questions: StatsQuestion[] }>();
  for (const message of messages) {
    if (!isLoggedEvent(message)) continue;
    const question = questionFor(message);
    if (!question) continue;
    const key = JSON.stringify([message.projectKey, message.userId]);
    const user = byUser.get(key) ?? { projectKey: message.projectKey, userId: message.userId, questions: [] };
    user.questions.push(question);
    byUser.set(key, user);
  }
  if (byUser.size === 0) return [...messages];
  const answers = new Map<string, StatsAnswer>();
  await Promise.all(
    [...byUser.values()].map(async ({ projectKey, userId, questions }) => {
      for (const answer of await userStateStub(objects, projectKey, userId).resolveStats(questions)) answers.set(answer.eventUid, answer);
    }),
  );
  return messages.map((message) => {
    if (!isLoggedEvent(message)) return message;
    const answer = answers.get(message.eventUid);
    if (!answer) return message;
    const updates = message.updates && {
      ...message.updates,
      // States that had no `previous` are replaced by the answer's (only those that move the user).
      streaks: [...message.updates.streaks.filter((state) => state.previous !== undefined), ...answer.streaks],
    };
    return { ...message, ...(answer.activity && { activity: answer.activity }), ...(updates && { updates }) };
  });
}
