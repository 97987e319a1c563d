// Log in with e-mail and password (POST /api/v1/auth/login), then go where the user was headed.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";

import { api } from "../api/client";
import { describeError, unwrap } from "../api/errors";
import { storeLogin } from "../api/login";
import { useToast } from "../app/toasts";
import { safeNext } from "./RequireAuth";
import { ME_KEY, useMe } from "./useMe";

export function LoginPage() {
  const [params] = useSearchParams();
  const next = safeNext(params.get("next"));
  const navigate = useNavigate();
  const client = useQueryClient();
  const toast = useToast();
  const me = useMe();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const errorId = useId();
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    document.title = "Log in · GP4U";
    heading.current?.focus();
  }, []);

  const login = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/auth/login", { body: { email, password } })),
    onSuccess: async (tokens) => {
      storeLogin(tokens);
      await client.invalidateQueries({ queryKey: ME_KEY });
      toast({ kind: "success", title: "Logged in", detail: email });
      navigate(next, { replace: true });
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    login.mutate();
  };

  const local = me.data?.auth_mode === "local";
  return (
    <section className="page narrow" aria-labelledby="login-title">
      <h1 id="login-title" ref={heading} tabIndex={-1}>
        Log in
      </h1>
      {local ? (
        <p className="notice">
          This server runs in local mode: you are its only user and need no login.{" "}
          <Link to={next}>Continue</Link>
        </p>
      ) : null}
      <form className="form" onSubmit={submit} noValidate aria-describedby={login.isError ? errorId : undefined}>
        <label htmlFor="login-email">E-mail</label>
        <input
          id="login-email"
          type="email"
          autoComplete="username"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
        />
        <label htmlFor="login-password">Password</label>
        <input
          id="login-password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        {login.isError ? (
          <p id={errorId} className="form-error" role="alert">
            {describeError(login.error)}
          </p>
        ) : null}
        <button type="submit" className="button button-primary" disabled={login.isPending || !email || !password}>
          {login.isPending ? "Logging in…" : "Log in"}
        </button>
      </form>
      <p>
        New to GP4U? <Link to={next === "/" ? "/signup" : `/signup?next=${encodeURIComponent(next)}`}>Create an account</Link>
      </p>
    </section>
  );
}

export default LoginPage;
