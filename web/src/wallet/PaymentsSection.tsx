// Deposits, withdrawals and payouts with their status; refreshed every few seconds while one is
// still pending (a test-async transfer settles about a minute after it is made).
import { describeError } from "../api/errors";
import { dateTime, money } from "../app/format";
import { usePayments } from "./queries";
import { TableWrap } from "../app/TableWrap";
import type { Payment } from "./types";

const DIRECTION: Record<Payment["direction"], string> = { deposit: "Deposit", withdrawal: "Withdrawal", payout: "Payout" };
const STATUS_CLASS: Record<Payment["status"], string> = { pending: "state-warn", settled: "state-good", failed: "state-bad" };

export function PaymentsSection() {
  const payments = usePayments();
  return (
    <section className="card wallet-section" aria-labelledby="payments-title">
      <h2 id="payments-title">Payments</h2>
      {payments.isPending ? <p role="status">Loading payments…</p> : null}
      {payments.isError ? (
        <p className="form-error" role="alert">
          Could not load payments: {describeError(payments.error)}
        </p>
      ) : null}
      {payments.data && payments.data.items.length === 0 ? <p className="empty">No payments yet: add money to get started.</p> : null}
      {payments.data && payments.data.items.length > 0 ? (
        <TableWrap label="Payments table">
          <table className="data-table">
            <caption className="sr-only">Your latest payments</caption>
            <thead>
              <tr>
                <th scope="col">Date</th>
                <th scope="col">Type</th>
                <th scope="col" className="num">
                  Amount
                </th>
                <th scope="col">Status</th>
                <th scope="col">Rail</th>
              </tr>
            </thead>
            <tbody>
              {payments.data.items.map((p) => (
                <tr key={p.id}>
                  <td>{dateTime(p.created_at)}</td>
                  <td>{DIRECTION[p.direction]}</td>
                  <td className="num">{money(p.amount)}</td>
                  <td>
                    <span className={`state ${STATUS_CLASS[p.status]}`}>{p.status}</span>
                    {p.failure_reason ? <span className="row-sub"> {p.failure_reason}</span> : null}
                  </td>
                  <td>{p.rail}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      ) : null}
    </section>
  );
}
