// The ledger: every entry that touched your balances, newest first, filtered by kind and date
// range (kept in the URL), paged with "Show more", and downloadable as CSV with the same filter.
import { useMutation } from "@tanstack/react-query";
import { useId, useMemo } from "react";
import { useSearchParams } from "react-router";

import { api } from "../api/client";
import { describeError } from "../api/errors";
import { dateTime, money } from "../app/format";
import { useToast } from "../app/toasts";
import { saveDownload } from "./download";
import { KINDS, kindLabel, rangeProblem, readFilter, toQuery, writeFilter, type TransactionFilter } from "./filters";
import { useTransactions } from "./queries";
import { TableWrap } from "../app/TableWrap";
import type { Transaction } from "./types";

function memoText(memo: Transaction["memo"]): string {
  return Object.entries(memo)
    .map(([key, value]) => `${key}: ${typeof value === "object" ? JSON.stringify(value) : String(value)}`)
    .join(" · ");
}

function Change({ value }: { value: number }) {
  if (value === 0) return <span className="muted">—</span>;
  return <span className={value > 0 ? "change-up" : undefined}>{value > 0 ? `+${money(value)}` : money(value)}</span>;
}

export function TransactionsSection() {
  const [params, setParams] = useSearchParams();
  const filter = useMemo(() => readFilter(params), [params]);
  const problem = rangeProblem(filter);
  const id = useId();
  const toast = useToast();
  const transactions = useTransactions(filter);
  const items = transactions.data?.pages.flatMap((page) => page.items) ?? [];
  const filtered = filter.kind !== null || filter.from !== null || filter.to !== null;

  const update = (change: Partial<TransactionFilter>) => setParams(writeFilter(params, { ...filter, ...change }), { replace: true });
  const download = useMutation({
    mutationFn: () =>
      saveDownload(
        api.GET("/api/v1/wallet/transactions", { params: { query: { ...toQuery(filter), format: "csv" } }, parseAs: "blob" }),
        "gp4u-transactions.csv",
      ),
    onSuccess: (name) => toast({ kind: "success", title: "Transactions downloaded", detail: name }),
    onError: (error) => toast({ kind: "error", title: "Could not download the transactions", detail: describeError(error) }),
  });

  return (
    <section className="card wallet-section" aria-labelledby="transactions-title">
      <div className="section-head">
        <h2 id="transactions-title">Transactions</h2>
        <button type="button" className="button" onClick={() => download.mutate()} disabled={download.isPending || problem !== null}>
          {download.isPending ? "Preparing CSV…" : "Download CSV"}
        </button>
      </div>
      <form className="field-row tx-filters" aria-label="Filter transactions" onSubmit={(event) => event.preventDefault()}>
        <div className="field">
          <label htmlFor={`${id}-kind`}>Kind</label>
          <select id={`${id}-kind`} value={filter.kind ?? ""} onChange={(event) => update({ kind: (event.target.value || null) as TransactionFilter["kind"] })}>
            <option value="">All kinds</option>
            {KINDS.map((k) => (
              <option key={k.value} value={k.value}>
                {k.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-from`}>From</label>
          <input id={`${id}-from`} type="date" value={filter.from ?? ""} max={filter.to ?? undefined} onChange={(event) => update({ from: event.target.value || null })} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-to`}>To</label>
          <input id={`${id}-to`} type="date" value={filter.to ?? ""} min={filter.from ?? undefined} onChange={(event) => update({ to: event.target.value || null })} />
        </div>
        {filtered ? (
          <div className="field tx-clear">
            <button type="button" className="button button-quiet" onClick={() => update({ kind: null, from: null, to: null })}>
              Clear filters
            </button>
          </div>
        ) : null}
      </form>
      {problem ? (
        <p className="form-error" role="alert">
          {problem}
        </p>
      ) : null}
      {transactions.isPending ? <p role="status">Loading transactions…</p> : null}
      {transactions.isError ? (
        <p className="form-error" role="alert">
          Could not load transactions: {describeError(transactions.error)}
        </p>
      ) : null}
      {transactions.isSuccess && items.length === 0 ? (
        <p className="empty">{filtered ? "No transactions match this filter." : "No transactions yet."}</p>
      ) : null}
      {items.length > 0 ? (
        <TableWrap label="Transactions table">
          <table className="data-table" aria-describedby={`${id}-count`}>
            <caption className="sr-only">Transactions, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Date</th>
                <th scope="col">Kind</th>
                <th scope="col" className="num">
                  Available
                </th>
                <th scope="col" className="num">
                  Held
                </th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {items.map((t) => (
                <tr key={t.id}>
                  <td>{dateTime(t.created_at)}</td>
                  <td>{kindLabel(t.kind)}</td>
                  <td className="num">
                    <Change value={t.available_change} />
                  </td>
                  <td className="num">
                    <Change value={t.held_change} />
                  </td>
                  <td className="tx-memo">{memoText(t.memo) || <span className="muted">—</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      ) : null}
      {items.length > 0 ? (
        <div className="section-foot">
          <span id={`${id}-count`} className="muted" role="status">
            {items.length} transaction{items.length === 1 ? "" : "s"} shown{transactions.hasNextPage ? "; more are older" : ""}
          </span>
          {transactions.hasNextPage ? (
            <button type="button" className="button" onClick={() => void transactions.fetchNextPage()} disabled={transactions.isFetchingNextPage}>
              {transactions.isFetchingNextPage ? "Loading…" : "Show more"}
            </button>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
