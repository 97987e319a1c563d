// Monthly budgets: the account's and one per API key. Each shows its use this month (captured
// spending plus what is still held) against its limit, warns from 80 % (the server alerts at 50,
// 80 and 100 % and refuses new spending at 100 %), and can be set, changed or removed.
import { useMutation } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";

import { api } from "../api/client";
import { describeError, unwrap } from "../api/errors";
import { Dialog } from "../app/Dialog";
import { money, number } from "../app/format";
import { useToast } from "../app/toasts";
import { budgetLevel, checkAmount } from "./amounts";
import { useApiKeys, useBudgets, useRefreshWallet } from "./queries";
import type { ApiKey, Budget } from "./types";

const ACCOUNT = ""; // the scope select's value for the account's own budget
const MAX_BUDGET = 10_000_000;

interface Editing {
  /** Fixed when changing an existing budget; chosen in the dialog when adding one. */
  keyId: string | null | undefined;
  limit?: number;
}

export function BudgetsSection() {
  const budgets = useBudgets();
  const keys = useApiKeys();
  const [editing, setEditing] = useState<Editing | null>(null);
  const keyName = (id: string | null) => (id === null ? "Whole account" : keyLabel(keys.data?.items ?? [], id));
  const rows: Budget[] = budgets.data ? [...(budgets.data.budget ? [budgets.data.budget] : []), ...budgets.data.keys] : [];

  return (
    <section className="card wallet-section" aria-labelledby="budgets-title">
      <div className="section-head">
        <h2 id="budgets-title">Monthly budgets</h2>
        <button type="button" className="button" onClick={() => setEditing({ keyId: undefined })} disabled={!budgets.data}>
          Set a budget
        </button>
      </div>
      <p className="muted">
        Spending this month counts charges and what is still held. You are alerted at 50, 80 and 100 %; at 100 % new spending is refused
        until the month ends (UTC).
      </p>
      {budgets.isPending ? <p role="status">Loading budgets…</p> : null}
      {budgets.isError ? (
        <p className="form-error" role="alert">
          Could not load budgets: {describeError(budgets.error)}
        </p>
      ) : null}
      {budgets.data && rows.length === 0 ? (
        <p className="empty">No budget set. {money(budgets.data.spent)} spent this month.</p>
      ) : null}
      {rows.length > 0 ? (
        <ul className="budget-list">
          {rows.map((b) => (
            <BudgetRow key={b.key_id ?? ACCOUNT} budget={b} name={keyName(b.key_id)} onChange={() => setEditing({ keyId: b.key_id, limit: b.monthly_limit })} />
          ))}
        </ul>
      ) : null}
      {editing && budgets.data ? (
        <BudgetDialog
          editing={editing}
          keys={keys.data?.items ?? []}
          taken={new Set(rows.map((b) => b.key_id ?? ACCOUNT))}
          onClose={() => setEditing(null)}
        />
      ) : null}
    </section>
  );
}

function keyLabel(keys: readonly ApiKey[], id: string): string {
  const key = keys.find((k) => k.id === id);
  return key ? `API key “${key.name}” (${key.id})` : `API key ${id}`;
}

function BudgetRow({ budget, name, onChange }: { budget: Budget; name: string; onChange: () => void }) {
  const toast = useToast();
  const refresh = useRefreshWallet();
  const level = budgetLevel(budget.used_percent);
  const remove = useMutation({
    mutationFn: () => unwrap(api.PUT("/api/v1/wallet/budget", { body: { monthly_limit: null, key_id: budget.key_id } })),
    onSuccess: () => {
      void refresh();
      toast({ kind: "success", title: `Budget removed: ${name}` });
    },
    onError: (error) => toast({ kind: "error", title: "Could not remove the budget", detail: describeError(error) }),
  });
  const headingId = useId();
  return (
    <li className={`budget budget-${level}`} aria-labelledby={headingId}>
      <div className="budget-top">
        <h3 id={headingId}>{name}</h3>
        <span className="actions">
          <button type="button" className="button button-quiet" onClick={onChange} aria-label={`Change budget: ${name}`}>
            Change
          </button>
          <button
            type="button"
            className="button button-quiet button-danger"
            onClick={() => remove.mutate()}
            disabled={remove.isPending}
            aria-label={`Remove budget: ${name}`}
          >
            Remove
          </button>
        </span>
      </div>
      <p className="budget-figures">
        <strong>{money(budget.spent)}</strong> of {money(budget.monthly_limit)} used ({number(budget.used_percent)} %) ·{" "}
        {money(budget.remaining)} left this month
      </p>
      <div className="budget-bar" aria-hidden="true">
        <span style={{ width: `${Math.min(100, budget.used_percent)}%` }} />
      </div>
      {level !== "ok" ? (
        <p className={`state ${level === "over" ? "state-bad" : "state-warn"}`}>
          {level === "over" ? "Budget reached: new spending is refused this month." : "Near the limit."}
        </p>
      ) : null}
    </li>
  );
}

function BudgetDialog({ editing, keys, taken, onClose }: { editing: Editing; keys: readonly ApiKey[]; taken: Set<string>; onClose: () => void }) {
  const toast = useToast();
  const refresh = useRefreshWallet();
  const formId = useId();
  const adding = editing.keyId === undefined;
  const choices = [{ id: ACCOUNT, label: "Whole account" }, ...keys.map((k) => ({ id: k.id, label: keyLabel(keys, k.id) }))].filter(
    (c) => !adding || !taken.has(c.id),
  );
  const [scope, setScope] = useState(adding ? (choices[0]?.id ?? ACCOUNT) : (editing.keyId ?? ACCOUNT));
  const [amount, setAmount] = useState(editing.limit === undefined ? "" : String(editing.limit));
  const [touched, setTouched] = useState(false);
  const checked = checkAmount(amount, { max: MAX_BUDGET, allowZero: true });
  const name = scope === ACCOUNT ? "Whole account" : keyLabel(keys, scope);

  const save = useMutation({
    mutationFn: (limit: string) => unwrap(api.PUT("/api/v1/wallet/budget", { body: { monthly_limit: limit, key_id: scope === ACCOUNT ? null : scope } })),
    onSuccess: (_data, limit) => {
      void refresh();
      toast({ kind: "success", title: `Budget set: ${money(Number(limit))} a month`, detail: name });
      onClose();
    },
    onError: (error) => toast({ kind: "error", title: "Could not set the budget", detail: describeError(error) }),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setTouched(true);
    if (checked.ok) save.mutate(checked.value);
  };
  const showProblem = touched && !checked.ok;
  return (
    <Dialog
      title={adding ? "Set a monthly budget" : `Change budget: ${name}`}
      onClose={onClose}
      footer={
        <>
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form={formId} className="button button-primary" disabled={save.isPending || choices.length === 0}>
            {save.isPending ? "Saving…" : "Save budget"}
          </button>
        </>
      }
    >
      <form id={formId} className="form" onSubmit={submit} noValidate>
        {adding ? (
          choices.length === 0 ? (
            <p className="notice">Every scope already has a budget: change one in the list instead.</p>
          ) : (
            <>
              <label htmlFor={`${formId}-scope`}>Applies to</label>
              <select id={`${formId}-scope`} value={scope} onChange={(event) => setScope(event.target.value)}>
                {choices.map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.label}
                  </option>
                ))}
              </select>
            </>
          )
        ) : null}
        <label htmlFor={`${formId}-limit`}>Monthly limit (USD)</label>
        <input
          id={`${formId}-limit`}
          inputMode="decimal"
          autoComplete="off"
          value={amount}
          onChange={(event) => setAmount(event.target.value)}
          aria-invalid={showProblem}
          aria-describedby={showProblem ? `${formId}-limit-problem` : `${formId}-limit-help`}
          placeholder="500.00"
          autoFocus
        />
        {showProblem && !checked.ok ? (
          <p id={`${formId}-limit-problem`} className="form-error">
            {checked.problem}
          </p>
        ) : (
          <small id={`${formId}-limit-help`}>$0 blocks all new spending.</small>
        )}
        {save.isError ? (
          <p className="form-error" role="alert">
            {describeError(save.error)}
          </p>
        ) : null}
      </form>
    </Dialog>
  );
}
