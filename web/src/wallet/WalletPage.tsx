// The wallet: balances (available, held, this month's budget use), adding and withdrawing money,
// payments with their status, 30 days of spending, monthly budgets, and the transactions ledger.
import { useEffect, useState } from "react";

import { describeError } from "../api/errors";
import { money, number } from "../app/format";
import { budgetLevel } from "./amounts";
import { BudgetsSection } from "./BudgetsSection";
import { MoneyDialog, type Direction } from "./MoneyDialog";
import { PaymentsSection } from "./PaymentsSection";
import { useWallet } from "./queries";
import { SpendingSection } from "./SpendingChart";
import { TransactionsSection } from "./TransactionsSection";
import type { Wallet } from "./types";
import { WalletTabs } from "./WalletTabs";
import "./wallet.css";

export function WalletPage() {
  const wallet = useWallet();
  const [dialog, setDialog] = useState<Direction | null>(null);
  useEffect(() => {
    document.title = "Wallet · GP4U";
  }, []);

  return (
    <section className="page wallet-page" aria-labelledby="walletpage-title">
      <WalletTabs />
      <div className="page-head">
        <h1 id="walletpage-title">Wallet</h1>
        <div className="actions">
          <button type="button" className="button" onClick={() => setDialog("withdrawal")} disabled={!wallet.data}>
            Withdraw
          </button>
          <button type="button" className="button button-primary" onClick={() => setDialog("deposit")}>
            Add money
          </button>
        </div>
      </div>
      {wallet.isPending ? (
        <p className="page-status" role="status">
          Loading your wallet…
        </p>
      ) : null}
      {wallet.isError ? (
        <p className="form-error" role="alert">
          Could not load your wallet: {describeError(wallet.error)}
        </p>
      ) : null}
      {wallet.data ? <Balances wallet={wallet.data} /> : null}
      <div className="wallet-grid">
        <SpendingSection />
        <BudgetsSection />
      </div>
      <PaymentsSection />
      <TransactionsSection />
      {dialog ? <MoneyDialog direction={dialog} available={wallet.data?.available} onClose={() => setDialog(null)} /> : null}
    </section>
  );
}

function Balances({ wallet }: { wallet: Wallet }) {
  const budget = wallet.budget;
  const level = budget ? budgetLevel(budget.used_percent) : "ok";
  return (
    <div className="cards" role="group" aria-label="Balances">
      <div className="card stat">
        <span className="stat-label">Available</span>
        <span className="stat-value" data-testid="available">
          {money(wallet.available)}
        </span>
        <span className="muted">Spendable now</span>
      </div>
      <div className="card stat">
        <span className="stat-label">Held</span>
        <span className="stat-value" data-testid="held">
          {money(wallet.held)}
        </span>
        <span className="muted">For bookings, sessions and pending withdrawals</span>
      </div>
      <div className="card stat">
        <span className="stat-label">Budget this month</span>
        {budget ? (
          <>
            <span className="stat-value">
              {money(budget.spent)} <span className="stat-of">of {money(budget.monthly_limit)}</span>
            </span>
            <span className={level === "ok" ? "muted" : `state ${level === "over" ? "state-bad" : "state-warn"}`}>
              {number(budget.used_percent)} % used{level === "over" ? ": new spending is refused" : level === "near" ? ": near the limit" : ""}
            </span>
          </>
        ) : (
          <>
            <span className="stat-value">No limit</span>
            <span className="muted">Set one under Monthly budgets</span>
          </>
        )}
      </div>
    </div>
  );
}
