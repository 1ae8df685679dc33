import { Fragment } from "preact";
import { useState } from "preact/hooks";
import type { LoyaltyEvent } from "../api/types";
import { Success } from "../components/feedback";
import { formatNumber } from "../components/stat-card";
import { AdjustForm } from "./adjust-form";

const formatTime = (iso: string) => iso.replace("T", " ").replace(/\.\d+Z$|Z$/, " UTC");

/** "50 points", "2.50 EUR"; "—" for a log that awarded nothing. */
export function describeLedgerReward(entry: LoyaltyEvent): string {
  const reward = entry.reward;
  if (!reward) return "—";
  if (reward.rewardType === "LOYALTY_POINTS") return `${formatNumber(reward.rewardAmount)} points`;
  const amount = reward.rewardAmount.toFixed(2);
  return reward.rewardType === "PERCENTAGE"
    ? `${amount} ${reward.rewardCurrency ?? ""} (percentage)`.trim()
    : `${amount} ${reward.rewardCurrency ?? ""}`.trim();
}

/** The ledger's rows, each with its adjust action; an adjusted row shows the new amount and the previous one. */
export function LedgerTable({ entries, onAdjusted }: { entries: LoyaltyEvent[]; onAdjusted: (adjusted: LoyaltyEvent) => void }) {
  const [adjusting, setAdjusting] = useState<number | null>(null);
  const [adjustedId, setAdjustedId] = useState<number | null>(null);
  return (
    <div class="table-scroll">
      <table data-testid="ledger-table">
        <caption class="visually-hidden">Loyalty events</caption>
        <thead>
          <tr>
            <th scope="col">Id</th>
            <th scope="col">Time</th>
            <th scope="col">Account</th>
            <th scope="col">Type</th>
            <th scope="col">Reward</th>
            <th scope="col">Details</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((entry) => (
            <Fragment key={entry.id}>
              <tr data-ledger-id={entry.id}>
                <th scope="row">{entry.id}</th>
                <td>{formatTime(entry.timestamp)}</td>
                <td>{entry.loyaltyAccountId}</td>
                <td>{entry.eventType}</td>
                <td data-testid="ledger-reward">
                  {describeLedgerReward(entry)}
                  {entry.reward?.previousRewardAmount !== null && entry.reward?.previousRewardAmount !== undefined && (
                    <div class="muted" data-testid="ledger-previous-reward">
                      was {formatNumber(entry.reward.previousRewardAmount)}
                    </div>
                  )}
                  {entry.reward?.customerMessage && <div class="muted">{entry.reward.customerMessage}</div>}
                </td>
                <td>
                  <code class="details">{JSON.stringify(entry.eventDetails)}</code>
                </td>
                <td>
                  {entry.reward && (
                    <button
                      type="button"
                      class="secondary"
                      aria-expanded={adjusting === entry.id}
                      onClick={() => setAdjusting(adjusting === entry.id ? null : entry.id)}
                      aria-label={`Adjust entry ${entry.id}`}
                    >
                      Adjust
                    </button>
                  )}
                </td>
              </tr>
              {adjustedId === entry.id && (
                <tr>
                  <td colSpan={7}>
                    <Success>
                      Entry {entry.id} now rewards {describeLedgerReward(entry)}.
                    </Success>
                  </td>
                </tr>
              )}
              {adjusting === entry.id && (
                <tr>
                  <td colSpan={7}>
                    <AdjustForm
                      entry={entry}
                      onCancel={() => setAdjusting(null)}
                      onAdjusted={(adjusted) => {
                        setAdjusting(null);
                        setAdjustedId(adjusted.id);
                        onAdjusted(adjusted);
                      }}
                    />
                  </td>
                </tr>
              )}
            </Fragment>
          ))}
        </tbody>
      </table>
    </div>
  );
}
