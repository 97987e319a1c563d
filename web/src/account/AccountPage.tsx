// Your account (a protected page): the profile (display name, your own session time limit), the
// password, API keys and the provider keys GP4U stores for you. In local mode there is no
// password (nobody logs in), so that section says so instead.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useState, type FormEvent } from "react";

import { api } from "../api/client";
import { describeError, unwrap } from "../api/errors";
import type { Me } from "../api/types";
import { dateTime } from "../app/format";
import { useToast } from "../app/toasts";
import { ME_KEY, useMe } from "../auth/useMe";
import { ApiKeysSection } from "./ApiKeysSection";
import { PasswordSection } from "./PasswordSection";
import { ProviderKeysSection } from "./ProviderKeysSection";
import "./account.css";

export function AccountPage() {
  const me = useMe();
  useEffect(() => {
    document.title = "Account · GP4U";
  }, []);
  const user = me.data;
  if (!user) return null; // RequireAuth renders this page only for a known user
  const local = user.auth_mode === "local";
  return (
    <section className="page account" aria-labelledby="account-title">
      <h1 id="account-title">Account</h1>
      {local ? (
        <p className="notice">
          This server runs in local mode: you are its only user, nobody logs in, and there is no password. API keys and
          provider keys work as usual.
        </p>
      ) : null}
      <ProfileSection user={user} />
      {local ? null : <PasswordSection />}
      <ApiKeysSection roles={user.roles} />
      <ProviderKeysSection />
    </section>
  );
}

function ProfileSection({ user }: { user: Me }) {
  const client = useQueryClient();
  const toast = useToast();
  const [name, setName] = useState(user.display_name);
  const [hours, setHours] = useState(user.max_session_hours === null ? "" : String(user.max_session_hours));
  const [problem, setProblem] = useState<string | null>(null);
  const errorId = useId();

  const save = useMutation({
    mutationFn: (body: { display_name: string; max_session_hours: number | null; clear_max_session_hours: boolean }) =>
      unwrap(api.PATCH("/api/v1/me", { body })),
    onSuccess: async (updated) => {
      await client.invalidateQueries({ queryKey: ME_KEY });
      setHours(updated.max_session_hours === null ? "" : String(updated.max_session_hours));
      toast({ kind: "success", title: "Profile saved" });
    },
    onError: (error) => toast({ kind: "error", title: "Could not save the profile", detail: describeError(error) }),
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const trimmed = name.trim();
    const limit = hours.trim() ? Number(hours) : null;
    if (!trimmed) return setProblem("The display name cannot be empty.");
    if (limit !== null && !(limit > 0)) return setProblem("The session limit is a number of hours above 0, or empty.");
    setProblem(null);
    save.mutate({ display_name: trimmed, max_session_hours: limit, clear_max_session_hours: limit === null });
  };

  const error = problem ?? (save.isError ? describeError(save.error) : null);
  return (
    <section className="account-section card" aria-labelledby="profile-title">
      <h2 id="profile-title">Profile</h2>
      <dl className="specs">
        <dt>E-mail</dt>
        <dd className="break">{user.email}</dd>
        <dt>Roles</dt>
        <dd>{user.roles.join(", ")}</dd>
        <dt>Member since</dt>
        <dd>{dateTime(user.created_at)}</dd>
      </dl>
      <form className="form" onSubmit={submit} noValidate aria-describedby={error ? errorId : undefined}>
        <label htmlFor="profile-name">Display name</label>
        <input id="profile-name" autoComplete="name" maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
        <label htmlFor="profile-hours">Longest session (hours)</label>
        <input
          id="profile-hours"
          inputMode="decimal"
          value={hours}
          placeholder="The platform's limit"
          aria-describedby={`${errorId}-hint`}
          onChange={(e) => setHours(e.target.value)}
        />
        <small id={`${errorId}-hint`} className="muted">
          Your own cap on how long a GPU session may live; it is destroyed when the time passes. Empty: the platform's
          limit.
        </small>
        {error ? (
          <p id={errorId} className="form-error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" className="button button-primary" disabled={save.isPending}>
          {save.isPending ? "Saving…" : "Save profile"}
        </button>
      </form>
    </section>
  );
}

export default AccountPage;
