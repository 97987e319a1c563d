// Deposit or withdraw through a payment rail. The request carries an Idempotency-Key
// (app/idempotency.ts), so a retry after a lost answer cannot move the money twice. The test rails
// settle by source token (tok_ok settles, tok_decline is declined); test-async stays pending for
// about a minute and the payments list follows it until it settles.
import { useMutation } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";

import { api } from "../api/client";
import { describeError, unwrap } from "../api/errors";
import { Dialog } from "../app/Dialog";
import { money } from "../app/format";
import { useToast } from "../app/toasts";
import { useIdempotencyKey } from "../app/idempotency";
import { checkAmount } from "./amounts";
import { useRefreshWallet } from "./queries";
import type { Payment } from "./types";

export type Direction = "deposit" | "withdrawal";

const RAILS = [
  { value: "test-instant", label: "Test rail, instant" },
  { value: "test-async", label: "Test rail, settles in about a minute" },
];
const MAX_AMOUNT = 100_000;

export function MoneyDialog({ direction, available, onClose }: { direction: Direction; available: number | undefined; onClose: () => void }) {
  const toast = useToast();
  const refresh = useRefreshWallet();
  const formId = useId();
  const idempotencyKey = useIdempotencyKey();
  const [amount, setAmount] = useState("");
  const [rail, setRail] = useState("test-instant");
  const [account, setAccount] = useState("tok_ok");
  const [touched, setTouched] = useState(false);
  const deposit = direction === "deposit";
  const checked = checkAmount(amount, { max: MAX_AMOUNT });
  const overBalance = !deposit && checked.ok && available !== undefined && Number(checked.value) > available;
  const problem = !checked.ok ? checked.problem : overBalance ? `You have ${money(available)} available.` : null;

  const send = useMutation({
    mutationFn: async (value: string): Promise<Payment> => {
      const headers = { "idempotency-key": idempotencyKey.current };
      return deposit
        ? unwrap(api.POST("/api/v1/wallet/deposits", { body: { amount: value, rail, source: account }, params: { header: headers } }))
        : unwrap(api.POST("/api/v1/wallet/withdrawals", { body: { amount: value, rail, destination: account }, params: { header: headers } }));
    },
    onSuccess: (payment) => {
      idempotencyKey.answered(); // a failed payment stays failed: trying again is a new payment
      void refresh();
      const what = deposit ? "Deposit" : "Withdrawal";
      if (payment.status === "failed") {
        toast({ kind: "error", title: `${what} of ${money(payment.amount)} failed`, detail: payment.failure_reason ?? undefined });
        return;
      }
      if (payment.status === "pending") {
        toast({ kind: "info", title: `${what} of ${money(payment.amount)} pending`, detail: "The payment rail settles it shortly; the payments list follows it." });
      } else {
        toast({ kind: "success", title: deposit ? `Deposited ${money(payment.amount)}` : `Withdrew ${money(payment.amount)}` });
      }
      onClose();
    },
    onError: (error) => {
      idempotencyKey.answered(error);
      toast({ kind: "error", title: deposit ? "Deposit refused" : "Withdrawal refused", detail: describeError(error) });
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setTouched(true);
    if (checked.ok && !problem) send.mutate(checked.value);
  };

  const showProblem = touched && problem !== null;
  return (
    <Dialog
      title={deposit ? "Add money" : "Withdraw money"}
      onClose={onClose}
      footer={
        <>
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form={formId} className="button button-primary" disabled={send.isPending}>
            {send.isPending ? "Sending…" : deposit ? "Deposit" : "Withdraw"}
          </button>
        </>
      }
    >
      <form id={formId} className="form" onSubmit={submit} noValidate>
        {!deposit && available !== undefined ? <p className="muted">Available to withdraw: {money(available)}</p> : null}
        <label htmlFor={`${formId}-amount`}>Amount (USD)</label>
        <input
          id={`${formId}-amount`}
          inputMode="decimal"
          autoComplete="off"
          value={amount}
          onChange={(event) => setAmount(event.target.value)}
          onBlur={() => setTouched(amount !== "")}
          aria-invalid={showProblem}
          aria-describedby={showProblem ? `${formId}-amount-problem` : undefined}
          placeholder="25.00"
          autoFocus
        />
        {showProblem ? (
          <p id={`${formId}-amount-problem`} className="form-error">
            {problem}
          </p>
        ) : null}
        <label htmlFor={`${formId}-rail`}>Payment rail</label>
        <select id={`${formId}-rail`} value={rail} onChange={(event) => setRail(event.target.value)}>
          {RAILS.map((r) => (
            <option key={r.value} value={r.value}>
              {r.label}
            </option>
          ))}
        </select>
        <label htmlFor={`${formId}-account`}>{deposit ? "Funding source" : "Destination"}</label>
        <input
          id={`${formId}-account`}
          value={account}
          onChange={(event) => setAccount(event.target.value)}
          aria-describedby={`${formId}-account-help`}
          autoComplete="off"
          required
        />
        <small id={`${formId}-account-help`} className="muted">
          Test rails: <code>tok_ok</code> settles, <code>tok_decline</code> is declined.
          {deposit ? "" : " The amount is held at once and paid out when the rail settles."}
        </small>
        {send.isError ? (
          <p className="form-error" role="alert">
            {describeError(send.error)}
          </p>
        ) : null}
      </form>
    </Dialog>
  );
}
