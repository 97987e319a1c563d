// Paying earnings out: amount (up to what is available), the payment rail and the rail's account.
// One idempotency key per attempt (app/idempotency.ts), so a retried click never pays out twice.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";

import { api } from "../api/client";
import { describeError, unwrap } from "../api/errors";
import { Dialog } from "../app/Dialog";
import { money } from "../app/format";
import { useToast } from "../app/toasts";
import { useIdempotencyKey } from "../app/idempotency";
import { TextInput } from "./MachineFields";
import { HOST_KEY } from "./queries";

export function payoutProblem(amount: string, available: number): string | null {
  const n = Number(amount);
  if (amount.trim() === "" || !Number.isFinite(n)) return "Enter an amount in USD.";
  if (n <= 0) return "The amount must be more than 0.";
  if ((amount.split(".")[1]?.length ?? 0) > 2) return "At most 2 decimals (cents).";
  if (Math.round(n * 100) > Math.round(available * 100)) return `At most ${money(available)} is available.`;
  return null;
}

export function PayoutDialog({ available, onClose }: { available: number; onClose: () => void }) {
  const [amount, setAmount] = useState(() => (Math.floor(available * 100) / 100).toFixed(2));
  const [rail, setRail] = useState("test-instant");
  const [destination, setDestination] = useState("");
  const [checked, setChecked] = useState(false);
  const key = useIdempotencyKey();
  const formId = useId();
  const client = useQueryClient();
  const toast = useToast();
  const payout = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/v1/host/payouts", {
          body: { amount: amount.trim(), rail: rail.trim(), destination: destination.trim() },
          params: { header: { "idempotency-key": key.current } },
        }),
      ),
    onSuccess: (done) => {
      key.answered();
      void client.invalidateQueries({ queryKey: HOST_KEY });
      void client.invalidateQueries({ queryKey: ["wallet"] });
      if (done.status === "failed") {
        toast({ kind: "error", title: "The payout failed", detail: done.failure_reason ?? "The rail refused it; the money stays in your wallet." });
      } else {
        toast({
          kind: "success",
          title: `Payout of ${money(done.amount)} ${done.status === "settled" ? "sent" : "requested"}`,
          detail: done.status === "pending" ? "It settles when the payment rail confirms it." : undefined,
        });
      }
      onClose();
    },
    onError: (error) => {
      key.answered(error);
      toast({ kind: "error", title: "The payout was not made", detail: describeError(error) });
    },
  });
  const amountError = checked ? payoutProblem(amount, available) : null;
  const railError = checked && !rail.trim() ? "Required." : undefined;
  const destinationError = checked && !destination.trim() ? "Required." : undefined;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setChecked(true);
    if (payoutProblem(amount, available) || !rail.trim() || !destination.trim()) return;
    payout.mutate();
  };
  return (
    <Dialog
      title="Pay out earnings"
      onClose={onClose}
      footer={
        <>
          <button type="button" className="button button-quiet" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form={formId} className="button button-primary" disabled={payout.isPending}>
            {payout.isPending ? "Paying out…" : "Pay out"}
          </button>
        </>
      }
    >
      <form id={formId} className="host-dialog-form" onSubmit={submit} noValidate>
        <p className="muted">{money(available)} is available. A failed payout leaves the money in your wallet.</p>
        <TextInput name="amount" label="Amount (USD)" value={amount} onChange={setAmount} error={amountError ?? undefined} inputMode="decimal" required />
        <TextInput name="rail" label="Payment rail" value={rail} onChange={setRail} error={railError} hint="One this server offers, e.g. test-instant." required />
        <TextInput
          name="destination"
          label="Destination account"
          value={destination}
          onChange={setDestination}
          error={destinationError}
          hint="The rail's account to pay into (test rails: tok_ok)."
          required
        />
      </form>
    </Dialog>
  );
}
