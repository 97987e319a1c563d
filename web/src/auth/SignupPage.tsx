// Create an account (POST /api/v1/auth/signup): the answer is a login, stored like the login
// page's, and the new user goes where they were headed (?next=, a same-site path only).
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";

import { api } from "../api/client";
import { describeError, unwrap } from "../api/errors";
import { storeLogin } from "../api/login";
import { useToast } from "../app/toasts";
import { PASSWORD_MAX, PASSWORD_MIN, passwordProblem } from "./password";
import { safeNext } from "./RequireAuth";
import { ME_KEY, useMe } from "./useMe";
import "./signup.css";

export function SignupPage() {
  const [params] = useSearchParams();
  const next = safeNext(params.get("next"));
  const navigate = useNavigate();
  const client = useQueryClient();
  const toast = useToast();
  const me = useMe();
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [host, setHost] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const errorId = useId();
  const hintId = useId();
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    document.title = "Create an account · GP4U";
    heading.current?.focus();
  }, []);

  const signup = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/v1/auth/signup", {
          body: {
            email: email.trim(),
            password,
            display_name: name.trim() || null,
            roles: host ? ["renter", "host"] : ["renter"],
          },
        }),
      ),
    onSuccess: async (signedUp) => {
      storeLogin(signedUp);
      await client.invalidateQueries({ queryKey: ME_KEY });
      toast({ kind: "success", title: "Welcome to GP4U", detail: `Signed up as ${signedUp.user.email}` });
      navigate(next, { replace: true });
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const found = !email.includes("@") ? "Enter your e-mail address." : passwordProblem(password, confirm);
    setProblem(found);
    if (!found) signup.mutate();
  };

  const error = problem ?? (signup.isError ? describeError(signup.error) : null);
  const local = me.data?.auth_mode === "local";
  const loginLink = next === "/" ? "/login" : `/login?next=${encodeURIComponent(next)}`;
  return (
    <section className="page narrow" aria-labelledby="signup-title">
      <h1 id="signup-title" ref={heading} tabIndex={-1}>
        Create an account
      </h1>
      {local ? (
        <p className="notice">
          This server runs in local mode: you are its only user and need no account. <Link to={next}>Continue</Link>
        </p>
      ) : null}
      <form className="form" onSubmit={submit} noValidate aria-describedby={error ? errorId : undefined}>
        <label htmlFor="signup-email">E-mail</label>
        <input id="signup-email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        <label htmlFor="signup-name">Display name (optional)</label>
        <input id="signup-name" autoComplete="name" maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
        <label htmlFor="signup-password">Password</label>
        <input
          id="signup-password"
          type="password"
          autoComplete="new-password"
          required
          minLength={PASSWORD_MIN}
          maxLength={PASSWORD_MAX}
          aria-describedby={hintId}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <small id={hintId} className="muted">
          {PASSWORD_MIN} to {PASSWORD_MAX} characters.
        </small>
        <label htmlFor="signup-confirm">Password again</label>
        <input
          id="signup-confirm"
          type="password"
          autoComplete="new-password"
          required
          value={confirm}
          onChange={(e) => setConfirm(e.target.value)}
        />
        <label className="signup-host">
          <input type="checkbox" checked={host} onChange={(e) => setHost(e.target.checked)} />
          I also want to list my own GPUs
          (host)
        </label>
        {error ? (
          <p id={errorId} className="form-error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" className="button button-primary" disabled={signup.isPending || local}>
          {signup.isPending ? "Creating your account…" : "Create account"}
        </button>
      </form>
      <p>
        Already have an account? <Link to={loginLink}>Log in</Link>
      </p>
    </section>
  );
}

export default SignupPage;
