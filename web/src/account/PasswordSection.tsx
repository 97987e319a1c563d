// Changing the password (POST /api/v1/me/password): every other login ends, and the answer is a
// fresh token pair for this browser, stored at once so this tab stays logged in.
import { useMutation } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";

import { api } from "../api/client";
import { describeError, unwrap } from "../api/errors";
import { storeLogin } from "../api/login";
import { useToast } from "../app/toasts";
import { PASSWORD_MAX, PASSWORD_MIN, passwordProblem } from "../auth/password";

export function PasswordSection() {
  const toast = useToast();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [confirm, setConfirm] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const errorId = useId();

  const change = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/me/password", { body: { current_password: current, new_password: next } })),
    onSuccess: (tokens) => {
      storeLogin(tokens);
      setCurrent("");
      setNext("");
      setConfirm("");
      toast({ kind: "success", title: "Password changed", detail: "Every other login has ended." });
    },
    onError: (error) => toast({ kind: "error", title: "Could not change the password", detail: describeError(error) }),
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const found = !current ? "Enter your current password." : passwordProblem(next, confirm);
    setProblem(found);
    if (!found) change.mutate();
  };

  const error = problem ?? (change.isError ? describeError(change.error) : null);
  return (
    <section className="account-section card" aria-labelledby="password-title">
      <h2 id="password-title">Password</h2>
      <form className="form" onSubmit={submit} noValidate aria-describedby={error ? errorId : undefined}>
        {/* Lets password managers pair the new password with the account. */}
        <input type="text" autoComplete="username" hidden readOnly aria-hidden="true" tabIndex={-1} />
        <label htmlFor="password-current">Current password</label>
        <input
          id="password-current"
          type="password"
          autoComplete="current-password"
          value={current}
          onChange={(e) => setCurrent(e.target.value)}
        />
        <label htmlFor="password-new">New password</label>
        <input
          id="password-new"
          type="password"
          autoComplete="new-password"
          maxLength={PASSWORD_MAX}
          aria-describedby={`${errorId}-hint`}
          value={next}
          onChange={(e) => setNext(e.target.value)}
        />
        <small id={`${errorId}-hint`} className="muted">
          {PASSWORD_MIN} to {PASSWORD_MAX} characters. Changing it logs you out everywhere else.
        </small>
        <label htmlFor="password-confirm">New password again</label>
        <input id="password-confirm" type="password" autoComplete="new-password" value={confirm} onChange={(e) => setConfirm(e.target.value)} />
        {error ? (
          <p id={errorId} className="form-error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" className="button button-primary" disabled={change.isPending}>
          {change.isPending ? "Changing…" : "Change password"}
        </button>
      </form>
    </section>
  );
}
