// The tabs between the two money pages: Wallet (balances, payments, transactions, budgets) and
// Costs (what GPU sessions cost, by session, day, month and API key).
import { NavLink } from "react-router";

export function WalletTabs() {
  return (
    <nav className="tabs" aria-label="Wallet and costs">
      <NavLink to="/wallet" end>
        Wallet
      </NavLink>
      <NavLink to="/costs" end>
        Costs
      </NavLink>
    </nav>
  );
}
