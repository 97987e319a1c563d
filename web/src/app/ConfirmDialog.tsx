// Asking before an action that cannot be taken back (delete, stop, retire, sign an agent out):
// the dialog says what will happen, Cancel is focused first (Escape cancels too), and the
// confirming button shows progress while the action runs.
import { useEffect, useRef, type ReactNode } from "react";

import { Dialog } from "./Dialog";

export interface ConfirmDialogProps {
  title: string;
  /** What will happen: a sentence, or more (an error from the last try, say). */
  children: ReactNode;
  confirmLabel: string;
  /** The confirming button while the action runs. */
  busyLabel?: string;
  cancelLabel?: string;
  /** "danger" for what destroys or signs out; "primary" for the rest. */
  tone?: "danger" | "primary";
  busy?: boolean;
  onConfirm: () => void;
  onClose: () => void;
}

export function ConfirmDialog({
  title,
  children,
  confirmLabel,
  busyLabel = "Working…",
  cancelLabel = "Cancel",
  tone = "danger",
  busy = false,
  onConfirm,
  onClose,
}: ConfirmDialogProps) {
  const cancel = useRef<HTMLButtonElement>(null);
  useEffect(() => cancel.current?.focus(), []);
  return (
    <Dialog
      title={title}
      onClose={onClose}
      footer={
        <>
          <button ref={cancel} type="button" className="button" onClick={onClose}>
            {cancelLabel}
          </button>
          <button type="button" className={`button button-${tone}`} onClick={onConfirm} disabled={busy}>
            {busy ? busyLabel : confirmLabel}
          </button>
        </>
      }
    >
      {children}
    </Dialog>
  );
}
