// API keys (/api/v1/me/api-keys): the active ones, a form to create one with a name, scopes and
// an optional expiry (the whole key is shown once, with a copy button), and revoking with a
// confirmation.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";

import { api } from "../api/client";
import { describeError, unwrap } from "../api/errors";
import type { components } from "../api/schema";
import { Dialog } from "../app/Dialog";
import { dateTime } from "../app/format";
import { useToast } from "../app/toasts";
import { CopyButton } from "../app/CopyButton";
import { LoadError } from "../app/LoadError";
import { ConfirmDialog } from "../app/ConfirmDialog";
import { SCOPE_TEXT, grantableScopes, type Scope } from "./scopes";

type Role = components["schemas"]["UserOut"]["roles"][number];
type ApiKey = components["schemas"]["ApiKeyOut"];
type Created = components["schemas"]["ApiKeyCreated"];

const KEYS = ["me", "api-keys"] as const;

export function ApiKeysSection({ roles }: { roles: Role[] }) {
  const keys = useQuery({
    queryKey: KEYS,
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/me/api-keys", { signal })),
  });
  const [revoking, setRevoking] = useState<ApiKey | null>(null);

  return (
    <section className="account-section card" aria-labelledby="keys-title">
      <h2 id="keys-title">API keys</h2>
      <p className="muted">
        For scripts and the CLI: send <code>Authorization: Bearer gp4u_…</code>. A key can do only what its scopes allow,
        and never manage your account.
      </p>
      {keys.isPending ? (
        <p role="status">Loading your keys…</p>
      ) : keys.isError ? (
        <LoadError what="your API keys" error={keys.error} onRetry={() => void keys.refetch()} />
      ) : keys.data.items.length === 0 ? (
        <p className="empty-inline">You have no API keys.</p>
      ) : (
        <div className="table-wrap" role="region" aria-label="Your API keys" tabIndex={0}>
          <table className="data-table">
            <caption className="sr-only">Your API keys</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Key</th>
                <th scope="col">Scopes</th>
                <th scope="col">Last used</th>
                <th scope="col">Expires</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {keys.data.items.map((key) => (
                <tr key={key.id}>
                  <td>
                    {key.name}
                    <div className="muted">created {dateTime(key.created_at)}</div>
                  </td>
                  <td>
                    <code>{key.display}</code>
                  </td>
                  <td>{key.scopes.join(", ")}</td>
                  <td>{key.last_used_at ? dateTime(key.last_used_at) : "Never"}</td>
                  <td>{key.expires_at ? dateTime(key.expires_at) : "Never"}</td>
                  <td>
                    <button type="button" className="button button-danger" onClick={() => setRevoking(key)} aria-label={`Revoke ${key.name}`}>
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <CreateKeyForm roles={roles} />
      {revoking ? <RevokeDialog apiKey={revoking} onClose={() => setRevoking(null)} /> : null}
    </section>
  );
}

function CreateKeyForm({ roles }: { roles: Role[] }) {
  const client = useQueryClient();
  const toast = useToast();
  const grantable = grantableScopes(roles);
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<Scope[]>(grantable.includes("read") ? ["read"] : []);
  const [days, setDays] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [created, setCreated] = useState<Created | null>(null);
  const errorId = useId();

  const create = useMutation({
    mutationFn: (expires: number | null) =>
      unwrap(api.POST("/api/v1/me/api-keys", { body: { name: name.trim(), scopes, expires_in_days: expires } })),
    onSuccess: async (key) => {
      setCreated(key);
      setName("");
      setDays("");
      await client.invalidateQueries({ queryKey: KEYS });
      toast({ kind: "success", title: "API key created", detail: key.name });
    },
    onError: (error) => toast({ kind: "error", title: "Could not create the API key", detail: describeError(error) }),
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const expires = days.trim() ? Number(days) : null;
    const found = !name.trim()
      ? "Name the key (where it is used, say)."
      : scopes.length === 0
        ? "Choose at least one scope."
        : expires !== null && !(Number.isInteger(expires) && expires >= 1 && expires <= 3650)
          ? "Expiry is a whole number of days from 1 to 3650, or empty for never."
          : null;
    setProblem(found);
    if (!found) create.mutate(expires);
  };

  const toggle = (scope: Scope, on: boolean) => setScopes((current) => (on ? [...current, scope] : current.filter((s) => s !== scope)));
  const error = problem ?? (create.isError ? describeError(create.error) : null);
  return (
    <>
      <h3>New API key</h3>
      <form className="form" onSubmit={submit} noValidate aria-describedby={error ? errorId : undefined}>
        <div className="field-row">
          <label className="field">
            <span>Name</span>
            <input name="key-name" maxLength={100} value={name} onChange={(e) => setName(e.target.value)} placeholder="CI deploys" />
          </label>
          <label className="field">
            <span>Expires after (days)</span>
            <input name="key-days" inputMode="numeric" value={days} onChange={(e) => setDays(e.target.value)} placeholder="Never" />
          </label>
        </div>
        <fieldset className="scope-list">
          <legend>Scopes</legend>
          {grantable.map((scope) => (
            <label key={scope} className="check">
              <input type="checkbox" checked={scopes.includes(scope)} onChange={(e) => toggle(scope, e.target.checked)} />
              {SCOPE_TEXT[scope]}
            </label>
          ))}
        </fieldset>
        {error ? (
          <p id={errorId} className="form-error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" className="button button-primary" disabled={create.isPending}>
          {create.isPending ? "Creating…" : "Create key"}
        </button>
      </form>
      {created ? (
        <Dialog
          title="Your new API key"
          onClose={() => setCreated(null)}
          footer={
            <button type="button" className="button button-primary" onClick={() => setCreated(null)}>
              I have stored it
            </button>
          }
        >
          <p>
            This is the only time <strong>{created.name}</strong> is shown in full. Store it now: GP4U keeps only a digest.
          </p>
          <pre className="secret-block" aria-label="The new API key">
            {created.key}
          </pre>
          <CopyButton text={created.key} what="the API key" />
        </Dialog>
      ) : null}
    </>
  );
}

function RevokeDialog({ apiKey, onClose }: { apiKey: ApiKey; onClose: () => void }) {
  const client = useQueryClient();
  const toast = useToast();
  const revoke = useMutation({
    mutationFn: () => unwrap(api.DELETE("/api/v1/me/api-keys/{key_id}", { params: { path: { key_id: apiKey.id } } })),
    onSuccess: async () => {
      await client.invalidateQueries({ queryKey: KEYS });
      toast({ kind: "success", title: "API key revoked", detail: apiKey.name });
      onClose();
    },
    onError: (error) => toast({ kind: "error", title: "Could not revoke the API key", detail: describeError(error) }),
  });
  return (
    <ConfirmDialog
      title={`Revoke ${apiKey.name}?`}
      confirmLabel="Revoke key"
      busyLabel="Revoking…"
      cancelLabel="Keep it"
      tone="primary"
      busy={revoke.isPending}
      onConfirm={() => revoke.mutate()}
      onClose={onClose}
    >
      <p>
        Anything using <code>{apiKey.display}</code> is refused from now on. This cannot be undone.
      </p>
    </ConfirmDialog>
  );
}
