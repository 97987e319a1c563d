// Your own provider API keys (/api/v1/me/provider-keys): which providers have one stored (only
// its last characters are ever shown), setting or replacing one, and forgetting it (confirmed).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";

import { api } from "../api/client";
import { describeError, unwrap } from "../api/errors";
import type { components } from "../api/schema";
import { dateTime } from "../app/format";
import { useToast } from "../app/toasts";
import { LoadError } from "../app/LoadError";
import { ConfirmDialog } from "../app/ConfirmDialog";

type Stored = components["schemas"]["ProviderKeyOut"];

const KEYS = ["me", "provider-keys"] as const;
/** The providers that take a user's own key (the server's CREDENTIAL_PROVIDERS). */
export const KEYED_PROVIDERS: readonly [string, string][] = [
  ["vastai", "Vast.ai"],
  ["runpod", "RunPod"],
  ["lambda", "Lambda"],
  ["tensordock", "TensorDock"],
];

export function ProviderKeysSection() {
  const stored = useQuery({
    queryKey: KEYS,
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/me/provider-keys", { signal })),
  });
  const byProvider = new Map((stored.data?.items ?? []).map((k) => [k.provider, k]));
  return (
    <section className="account-section card" aria-labelledby="provider-keys-title">
      <h2 id="provider-keys-title">Provider keys</h2>
      <p className="muted">
        The API keys of your own accounts at providers. They are stored encrypted and never shown again; only their last
        characters tell them apart.
      </p>
      {stored.isPending ? (
        <p role="status">Loading your provider keys…</p>
      ) : stored.isError ? (
        <LoadError what="your provider keys" error={stored.error} onRetry={() => void stored.refetch()} />
      ) : (
        <ul className="provider-keys">
          {KEYED_PROVIDERS.map(([provider, label]) => (
            <ProviderKeyRow key={provider} provider={provider} label={label} stored={byProvider.get(provider)} />
          ))}
        </ul>
      )}
    </section>
  );
}

function ProviderKeyRow({ provider, label, stored }: { provider: string; label: string; stored: Stored | undefined }) {
  const client = useQueryClient();
  const toast = useToast();
  const [editing, setEditing] = useState(false);
  const [value, setValue] = useState("");
  const [forgetting, setForgetting] = useState(false);
  const inputId = useId();

  const save = useMutation({
    mutationFn: () =>
      unwrap(api.PUT("/api/v1/me/provider-keys/{provider}", { params: { path: { provider } }, body: { api_key: value.trim() } })),
    onSuccess: async () => {
      await client.invalidateQueries({ queryKey: KEYS });
      setValue("");
      setEditing(false);
      toast({ kind: "success", title: `${label} key saved` });
    },
    onError: (error) => toast({ kind: "error", title: `Could not save the ${label} key`, detail: describeError(error) }),
  });
  const forget = useMutation({
    mutationFn: () => unwrap(api.DELETE("/api/v1/me/provider-keys/{provider}", { params: { path: { provider } } })),
    onSuccess: async () => {
      await client.invalidateQueries({ queryKey: KEYS });
      setForgetting(false);
      toast({ kind: "success", title: `${label} key forgotten` });
    },
    onError: (error) => toast({ kind: "error", title: `Could not forget the ${label} key`, detail: describeError(error) }),
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };

  return (
    <li className="provider-key" aria-label={label}>
      <div className="provider-key-head">
        <div>
          <strong>{label}</strong>{" "}
          {stored ? (
            <span className="provider-key-status">
              <span className="state state-good">Stored</span> <code>…{stored.key_hint}</code>
              <span className="muted"> · updated {dateTime(stored.updated_at)}</span>
            </span>
          ) : (
            <span className="state">Not set</span>
          )}
        </div>
        <div className="actions">
          {editing ? null : (
            <button type="button" className="button" onClick={() => setEditing(true)} aria-label={`${stored ? "Replace" : "Set"} the ${label} key`}>
              {stored ? "Replace" : "Set"}
            </button>
          )}
          {stored ? (
            <button type="button" className="button button-danger" onClick={() => setForgetting(true)} aria-label={`Forget the ${label} key`}>
              Forget
            </button>
          ) : null}
        </div>
      </div>
      {editing ? (
        <form className="provider-key-form" onSubmit={submit} noValidate>
          <label htmlFor={inputId}>{label} API key</label>
          <div className="provider-key-input">
            <input
              id={inputId}
              type="password"
              autoComplete="off"
              spellCheck={false}
              minLength={8}
              maxLength={1024}
              value={value}
              onChange={(e) => setValue(e.target.value)}
            />
            <button type="submit" className="button button-primary" disabled={save.isPending || value.trim().length < 8}>
              {save.isPending ? "Saving…" : "Save"}
            </button>
            <button
              type="button"
              className="button button-quiet"
              onClick={() => {
                setEditing(false);
                setValue("");
              }}
            >
              Cancel
            </button>
          </div>
          {save.isError ? (
            <p className="form-error" role="alert">
              {describeError(save.error)}
            </p>
          ) : null}
        </form>
      ) : null}
      {forgetting ? (
        <ConfirmDialog
          title={`Forget the ${label} key?`}
          confirmLabel="Forget key"
          busyLabel="Forgetting…"
          cancelLabel="Keep it"
          tone="primary"
          busy={forget.isPending}
          onConfirm={() => forget.mutate()}
          onClose={() => setForgetting(false)}
        >
          <p>GP4U deletes its encrypted copy of your {label} key. Your account at {label} is not changed.</p>
        </ConfirmDialog>
      ) : null}
    </li>
  );
}
