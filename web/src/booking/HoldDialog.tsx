// The dialog of an action that holds money when sent (launch, extend a session or a booking):
// the fields, the live estimate against the wallet, the server's refusal in words, and along the
// bottom Cancel and "<action> and hold $X".
import { useId, type ReactNode } from "react";

import { Dialog } from "../app/Dialog";
import { money } from "../app/format";
import { FailureView } from "./BookDialog";
import type { Estimate } from "./estimate";
import { EstimateView } from "./EstimateView";
import type { Refusal } from "./moneyErrors";
import "./booking.css";

export interface HoldDialogProps {
  title: string;
  /** The verb on the button: "<action> and hold $X". */
  action: string;
  /** The button while the request is out ("Launching…"). */
  busyLabel: string;
  busy: boolean;
  quote: Estimate | null;
  pricePerHour: number;
  wallet: { isPending: boolean; isError: boolean };
  /** What the hold means, under the estimate. */
  note: string;
  failure: Refusal | null;
  /** Send, unless the fields have a problem (called with the form's default prevented). */
  onSubmit: () => void;
  onClose: () => void;
  children: ReactNode;
}

export function HoldDialog({ title, action, busyLabel, busy, quote, pricePerHour, wallet, note, failure, onSubmit, onClose, children }: HoldDialogProps) {
  const formId = useId();
  return (
    <Dialog
      title={title}
      className="scroll-dialog"
      onClose={onClose}
      footer={
        <>
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form={formId} className="button button-primary" disabled={busy}>
            {busy ? busyLabel : quote ? `${action} and hold ${money(quote.held)}` : action}
          </button>
        </>
      }
    >
      <form
        id={formId}
        className="book-form"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          onSubmit();
        }}
      >
        {children}
        <EstimateView estimate={quote} pricePerHour={pricePerHour} walletState={wallet.isPending ? "pending" : wallet.isError ? "error" : "ready"} note={note} />
        {failure ? <FailureView failure={failure} /> : null}
      </form>
    </Dialog>
  );
}
