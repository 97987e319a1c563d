// A machine's blocked periods (no bookings then): the ones not yet over with an Unblock button,
// and a form to block another. The calendar below it gets the same Unblock action for its
// blocked segments (`children`).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent, type ReactNode } from "react";

import { api } from "../api/client";
import { ApiError, describeError, unwrap } from "../api/errors";
import { dateTime } from "../app/format";
import { useToast } from "../app/toasts";
import { HOST_KEY } from "./queries";
import type { Block, Machine, Segment } from "./types";

/** A `datetime-local` value (the browser's zone) as an instant, or null when blank or invalid. */
export function localToIso(value: string): string | null {
  if (!value) return null;
  const t = new Date(value);
  return Number.isNaN(t.getTime()) ? null : t.toISOString();
}

interface Props {
  machine: Machine;
  children: (unblock: (segment: Segment) => ReactNode) => ReactNode;
}

export function BlockedPeriods({ machine, children }: Props) {
  const client = useQueryClient();
  const toast = useToast();
  const key = [...HOST_KEY, "blocks", machine.id];
  const blocks = useQuery({
    queryKey: key,
    queryFn: () => unwrap(api.GET("/api/v1/machines/{machine_id}/blocks", { params: { path: { machine_id: machine.id } } })),
  });
  const unblock = useMutation({
    mutationFn: (block: Block) =>
      unwrap(api.DELETE("/api/v1/machines/{machine_id}/blocks/{block_id}", { params: { path: { machine_id: machine.id, block_id: block.id } } })).then(
        () => block,
      ),
    onSuccess: (block) => {
      void client.invalidateQueries({ queryKey: HOST_KEY });
      toast({ kind: "success", title: "Period unblocked", detail: `${dateTime(block.start)} to ${dateTime(block.end)} can be booked again.` });
    },
    onError: (error) => toast({ kind: "error", title: "Not unblocked", detail: describeError(error) }),
  });
  const items = blocks.data?.items ?? [];
  const blockOf = (segment: Segment) =>
    items.find((b) => Date.parse(b.start) < Date.parse(segment.end) && Date.parse(segment.start) < Date.parse(b.end));
  const unblockButton = (block: Block, label: string) => (
    <button type="button" className="button button-quiet" onClick={() => unblock.mutate(block)} disabled={unblock.isPending}>
      Unblock<span className="sr-only"> {label}</span>
    </button>
  );

  return (
    <>
      <h3>Blocked periods</h3>
      {blocks.isPending ? (
        <p role="status">Loading blocked periods…</p>
      ) : blocks.isError ? (
        <p className="notice notice-stale" role="alert">
          Could not load blocked periods: {describeError(blocks.error)}
        </p>
      ) : items.length === 0 ? (
        <p className="muted">Nothing blocked: every open hour can be booked.</p>
      ) : (
        <ul className="block-list">
          {items.map((b) => {
            const label = `${dateTime(b.start)} to ${dateTime(b.end)}`;
            return (
              <li key={b.id}>
                <span>
                  {label}
                  {b.reason ? <span className="muted"> · {b.reason}</span> : null}
                </span>
                {unblockButton(b, label)}
              </li>
            );
          })}
        </ul>
      )}
      <BlockForm machine={machine} />
      {children((segment) => {
        const block = blockOf(segment);
        return block ? unblockButton(block, `${dateTime(block.start)} to ${dateTime(block.end)}`) : null;
      })}
    </>
  );
}

function BlockForm({ machine }: { machine: Machine }) {
  const [start, setStart] = useState("");
  const [end, setEnd] = useState("");
  const [reason, setReason] = useState("");
  const [problem, setProblem] = useState<{ field: "start" | "end" | null; text: string } | null>(null);
  const client = useQueryClient();
  const toast = useToast();
  const add = useMutation({
    mutationFn: (body: { start: string; end: string; reason: string | null }) =>
      unwrap(api.POST("/api/v1/machines/{machine_id}/blocks", { params: { path: { machine_id: machine.id } }, body })),
    onSuccess: (block) => {
      setStart("");
      setEnd("");
      setReason("");
      setProblem(null);
      void client.invalidateQueries({ queryKey: HOST_KEY });
      toast({ kind: "success", title: "Period blocked", detail: `${dateTime(block.start)} to ${dateTime(block.end)}: no bookings then.` });
    },
    onError: (error) => {
      const field = error instanceof ApiError && (error.field === "start" || error.field === "end") ? error.field : null;
      setProblem({ field, text: describeError(error) });
      toast({ kind: "error", title: "Not blocked", detail: describeError(error) });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const from = localToIso(start);
    const to = localToIso(end);
    if (!from) return setProblem({ field: "start", text: "Choose when the blocked period starts." });
    if (!to) return setProblem({ field: "end", text: "Choose when it ends." });
    if (Date.parse(to) <= Date.parse(from)) return setProblem({ field: "end", text: "The end must be after the start." });
    add.mutate({ start: from, end: to, reason: reason.trim() || null });
  };
  return (
    <form className="block-form" onSubmit={submit} noValidate aria-labelledby="block-form-title">
      <h4 id="block-form-title">Block a period</h4>
      <div className="field-row">
        <label className="field">
          <span>From</span>
          <input
            type="datetime-local"
            value={start}
            onChange={(e) => setStart(e.target.value)}
            aria-invalid={problem?.field === "start" ? true : undefined}
            aria-describedby="block-problem"
          />
        </label>
        <label className="field">
          <span>Until</span>
          <input
            type="datetime-local"
            value={end}
            onChange={(e) => setEnd(e.target.value)}
            aria-invalid={problem?.field === "end" ? true : undefined}
            aria-describedby="block-problem"
          />
        </label>
        <label className="field">
          <span>Reason (optional)</span>
          <input value={reason} maxLength={200} onChange={(e) => setReason(e.target.value)} />
        </label>
      </div>
      <p className="muted">Times in your browser&apos;s zone. Booked time cannot be blocked.</p>
      <p id="block-problem" className={problem ? "field-error" : "sr-only"} role={problem ? "alert" : undefined}>
        {problem?.text ?? ""}
      </p>
      <button type="submit" className="button" disabled={add.isPending}>
        {add.isPending ? "Blocking…" : "Block period"}
      </button>
    </form>
  );
}
