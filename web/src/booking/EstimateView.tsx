// The live cost block of the booking and launch dialogs: what will be held now, what the wallet
// has available before and after, what the monthly budget leaves, and a warning when the server
// would refuse the hold. Announced politely as it changes.
import { Link } from "react-router";

import { money } from "../app/format";
import { duration, type Estimate } from "./estimate";

export function EstimateView({
  estimate,
  pricePerHour,
  walletState,
  note,
}: {
  estimate: Estimate | null;
  pricePerHour: number;
  walletState: "pending" | "error" | "ready";
  note: string;
}) {
  return (
    <section className="estimate" aria-labelledby="estimate-title">
      <h3 id="estimate-title">Cost estimate</h3>
      <div aria-live="polite" aria-atomic="true">
        {estimate && estimate.minutes > 0 ? (
          <dl className="specs">
            <dt>Price</dt>
            <dd>{money(pricePerHour)} per hour</dd>
            <dt>Duration</dt>
            <dd>{duration(estimate.minutes)}</dd>
            <dt>Held now</dt>
            <dd>
              <strong data-testid="estimate-held">{money(estimate.held)}</strong>
            </dd>
            <dt>Wallet available</dt>
            <dd>
              {walletState === "pending"
                ? "loading…"
                : walletState === "error"
                  ? "could not load your wallet"
                  : `${money(estimate.available)} now, ${money(estimate.availableAfter)} after`}
            </dd>
            {estimate.budgetLeft !== null ? (
              <>
                <dt>Budget left</dt>
                <dd>{money(estimate.budgetLeft)} this month</dd>
              </>
            ) : null}
          </dl>
        ) : (
          <p className="muted">Choose the time to see the cost.</p>
        )}
        {estimate?.problem === "insufficient_funds" ? (
          <p className="notice notice-stale">
            Your wallet has {money(estimate.available)} available, {money(estimate.held)} is needed.{" "}
            <Link to="/wallet">Add money</Link>
          </p>
        ) : null}
        {estimate?.problem === "over_budget" ? (
          <p className="notice notice-stale">
            This would go over your monthly budget ({money(estimate.budgetLeft)} left). <Link to="/wallet">Review your budget</Link>
          </p>
        ) : null}
      </div>
      <p className="muted estimate-note">{note}</p>
    </section>
  );
}
