// Toasts: short messages about the outcome of an action. Success and info toasts are announced
// politely and go away after a few seconds; errors are announced at once and stay until closed.
import { createContext, useCallback, useContext, useRef, useState, type ReactNode } from "react";

export type ToastKind = "success" | "info" | "error";

export interface Toast {
  id: number;
  kind: ToastKind;
  title: string;
  detail?: string;
}

type ShowToast = (toast: Omit<Toast, "id">) => void;

const ToastContext = createContext<ShowToast | null>(null);
const LIFETIME_MS = 6000;

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const nextId = useRef(1);

  const dismiss = useCallback((id: number) => {
    setToasts((current) => current.filter((t) => t.id !== id));
  }, []);

  const show = useCallback<ShowToast>(
    (toast) => {
      const id = nextId.current++;
      setToasts((current) => [...current.slice(-4), { ...toast, id }]);
      if (toast.kind !== "error") window.setTimeout(() => dismiss(id), LIFETIME_MS);
    },
    [dismiss],
  );

  const polite = toasts.filter((t) => t.kind !== "error");
  const urgent = toasts.filter((t) => t.kind === "error");

  return (
    <ToastContext.Provider value={show}>
      {children}
      <div className="toasts">
        <div role="status" aria-live="polite" className="toast-stack">
          {polite.map((t) => (
            <ToastView key={t.id} toast={t} onClose={dismiss} />
          ))}
        </div>
        <div role="alert" aria-live="assertive" className="toast-stack">
          {urgent.map((t) => (
            <ToastView key={t.id} toast={t} onClose={dismiss} />
          ))}
        </div>
      </div>
    </ToastContext.Provider>
  );
}

function ToastView({ toast, onClose }: { toast: Toast; onClose: (id: number) => void }) {
  return (
    <div className={`toast toast-${toast.kind}`}>
      <div className="toast-text">
        <strong>{toast.title}</strong>
        {toast.detail ? <span>{toast.detail}</span> : null}
      </div>
      <button type="button" className="button button-quiet toast-close" onClick={() => onClose(toast.id)} aria-label={`Dismiss: ${toast.title}`}>
        ×
      </button>
    </div>
  );
}

export function useToast(): ShowToast {
  const show = useContext(ToastContext);
  if (!show) throw new Error("useToast needs a ToastProvider");
  return show;
}
